/**
 * `dag init [DIR]`: a new project that runs at once. Its code imports only the public API
 * ("mathdag", "mathdag/nodes/…"); the CLI finds it by its dag.config.ts and its pipelines by their
 * files. Existing files are never overwritten.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { InputError } from "../errors.js"
import { packageRoot, packageVersion } from "../paths.js"

const files = (name: string): Record<string, string> => ({
  "package.json": `${JSON.stringify(
    {
      name,
      private: true,
      type: "module",
      scripts: { typecheck: "tsc -p ." },
      dependencies: { mathdag: `^${packageVersion()}` },
      devDependencies: { "@types/node": "^20.19.0", typescript: "^5.9.0" },
    },
    null,
    2
  )}\n`,
  "dag.config.ts": `import { defineConfig } from "mathdag"

// Paths are relative to this folder. Profiles (\`dag run NAME --profile P\`) layer params over the defaults.
export default defineConfig({
  store: ".dag",
  runs: "runs",
  defaultProfile: "local",
  profiles: { local: {} },
})
`,
  "schemas/line.ts": `import { Schema } from "mathdag"

/** One line of a text file: the row type the example's nodes exchange. */
export const Line = Schema.Struct({
  id: Schema.String,
  file: Schema.String,
  text: Schema.String,
})
`,
  "nodes/example.ts": `import { Cell, Effect, Node, Schema } from "mathdag"
import { listFiles } from "mathdag/nodes/files"
import * as fs from "node:fs"
import { Line } from "../schemas/line.js"

/** Text files → one row per non-empty line; one shard per file, so an edited file recomputes alone. */
export const lines = Node.source({
  name: "example/lines",
  version: 1,
  description: "Text files, one row per non-empty line.",
  params: Schema.Struct({ paths: Schema.optionalWith(Schema.String, { default: () => "data/*.txt" }) }),
  output: Line,
  units: (p) => listFiles("example/lines", p.paths),
  read: function* (unit) {
    const text = fs.readFileSync(unit.file as string, "utf8")
    let n = 0
    for (const line of text.split("\\n")) {
      n++
      if (line.trim() !== "") yield { id: \`\${unit.id}:\${n}\`, file: unit.id, text: line.trim() }
    }
  },
})

/** Lower-cases each line and drops the short ones (counted, with the reason, in the report). */
export const clean = Node.map({
  name: "example/clean",
  version: 1,
  description: "Lower-case; drop lines shorter than minChars.",
  input: Line,
  output: Line,
  params: Schema.Struct({ minChars: Schema.optionalWith(Schema.Int, { default: () => 12 }) }),
  row: (row, p) => (row.text.length < p.minChars ? Node.Drop("too-short") : Node.Keep({ ...row, text: row.text.toLowerCase() })),
})

export const WordCount = Schema.Struct({ word: Schema.String, n: Schema.Int })

/** Sees every row at once (a global node): word counts with DuckDB. */
export const words = Node.global({
  name: "example/words",
  version: 1,
  description: "Word counts over every line.",
  inputs: { lines: Node.Dataset(Line) },
  outputs: { counts: Node.Dataset(WordCount) },
  report: [Cell.bar("Most frequent words", "SELECT word, n FROM self ORDER BY n DESC, word LIMIT 10", { x: "word", y: "n" })],
  run: (ctx) =>
    Effect.gen(function* () {
      const rows = yield* ctx.sql(
        "SELECT word, count(*)::INTEGER AS n FROM (SELECT unnest(regexp_extract_all(text, '[a-z]+')) AS word FROM lines) GROUP BY word ORDER BY n DESC, word"
      )
      yield* ctx.outputs.counts.write(rows as Array<{ word: string; n: number }>)
    }),
})
`,
  "pipelines/example.ts": `import { Pipeline } from "mathdag"
import { clean, lines, words } from "../nodes/example.js"

// The file name is the pipeline's name: \`dag run example\`.
export default Pipeline.make(
  "example",
  (p) => {
    const cleaned = p.add(clean, p.add(lines))
    const { counts } = p.add(words, { lines: cleaned })
    return { cleaned, counts }
  },
  { description: "Text files → clean lines → word counts (a starting point)." }
)
`,
  "data/example.txt": `Pipelines are made of nodes.
A node is a small plain value: a name, a version, params and a function.
Every output is cached by a key made of the code, the params and the inputs.
Edit this file and run again: only this file's shard and what depends on it recompute.
ok
`,
  "tsconfig.json": `${JSON.stringify(
    {
      compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", strict: true, skipLibCheck: true, noEmit: true, types: ["node"] },
      include: ["dag.config.ts", "pipelines", "nodes", "schemas"],
    },
    null,
    2
  )}\n`,
  ".gitignore": ".dag/\nruns/\n.mathdag/\nnode_modules/\n",
  "README.md": `# ${name}

A [mathdag](https://www.npmjs.com/package/mathdag) project.

\`\`\`sh
npx dag run example                # runs pipelines/example.ts; a second run is all cached
npx dag sql "select * from example_words order by n desc limit 5"
npx dag report                     # the run's notebook-style report (HTML)
\`\`\`

- \`pipelines/<name>.ts\` — one pipeline per file, \`export default Pipeline.make("<name>", …)\`.
- \`nodes/\` — your nodes (source, map, global); \`schemas/\` — the row types they exchange.
- \`dag.config.ts\` — store and runs folders, profiles, params.
`,
})

export const initCommand = Command.make(
  "init",
  {
    dir: Args.directory({ name: "DIR", exists: "either" }).pipe(Args.withDescription("folder to create the project in, e.g. dag init my-corpus; default: the current folder"), Args.optional),
    noLink: Options.boolean("no-link").pipe(Options.withDescription("do not link node_modules/mathdag to this installation (run `npm install mathdag` yourself); default: linked")),
  },
  (o) =>
    Effect.gen(function* () {
      const dir = path.resolve(Option.getOrElse(o.dir, () => "."))
      const name =
        path
          .basename(dir)
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, "-") || "mathdag-project"
      if (["dag.config.ts", "dag.config.mts", "dag.config.js", "dag.config.mjs"].some((f) => fs.existsSync(path.join(dir, f)))) {
        return yield* Effect.fail(new InputError({ message: `${dir} already has a dag.config file: it is a project already (\`dag run\` there)` }))
      }
      const written: Array<string> = []
      for (const [file, text] of Object.entries(files(name))) {
        const dest = path.join(dir, file)
        if (fs.existsSync(dest)) continue // never overwrite a user's file
        fs.mkdirSync(path.dirname(dest), { recursive: true })
        fs.writeFileSync(dest, text)
        written.push(file)
      }
      // Offline and before publishing, the project uses this installation of mathdag (as `npm link` would).
      const link = path.join(dir, "node_modules", "mathdag")
      if (!o.noLink && !fs.existsSync(link)) {
        fs.mkdirSync(path.dirname(link), { recursive: true })
        fs.symlinkSync(packageRoot(), link, "dir")
        written.push(`node_modules/mathdag → ${packageRoot()}`)
        const bin = path.join(dir, "node_modules", ".bin", "dag")
        if (!fs.existsSync(bin)) {
          fs.mkdirSync(path.dirname(bin), { recursive: true })
          fs.symlinkSync(path.join("..", "mathdag", "bin", "dag.cjs"), bin)
        }
      }
      yield* Console.log(
        `created a mathdag project in ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}\n\nnext:\n${path.relative(process.cwd(), dir) ? `  cd ${path.relative(process.cwd(), dir)}\n` : ""}  npx dag run example`
      )
    })
).pipe(Command.withDescription("Create a project that runs at once: dag.config.ts, pipelines/example.ts, nodes/, schemas/, tsconfig.json."))
