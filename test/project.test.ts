/**
 * mathdag as a library: `dag init` makes a project elsewhere that runs at once through the public
 * API; the CLI finds the project from any folder inside it and its pipelines by their files; the
 * project's own code is part of its nodes' cache keys; the engine imports nothing of the app.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, ROOT, tempDir } from "./helpers.js"

/** Runs a command without blocking the test worker (a long synchronous spawn starves vitest's RPC). */
const exec = (command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })

const dagIn = (cwd: string, args: ReadonlyArray<string>) => {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" }
  delete env.DAG_STORE
  delete env.DAG_RUNS
  delete env.DAG_NO_REBUILD
  delete env.DAG_ROOT
  return exec(process.execPath, [BIN, ...args], cwd, env)
}
const statuses = (stdout: string) => Object.fromEntries((JSON.parse(stdout.trim().split("\n").at(-1)!) as { nodes: Array<{ node: string; status: string }> }).nodes.map((n) => [n.node, n.status]))

describe("a project of one's own (dag init)", () => {
  it("runs at once, is all cached the second time, works from a subfolder, and recomputes what its own code changes", async () => {
    const dir = path.join(tempDir("project"), "my-corpus")
    const init = await dagIn(path.dirname(dir), ["init", dir])
    expect(init.code, init.stderr).toBe(0)
    for (const f of ["package.json", "dag.config.ts", "pipelines/example.ts", "nodes/example.ts", "schemas/line.ts", "tsconfig.json", "README.md"])
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true)
    // the project's code speaks only the public API
    const sources = ["dag.config.ts", "pipelines/example.ts", "nodes/example.ts", "schemas/line.ts"].map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n")
    expect(sources).not.toMatch(/from "\.\.\/\.\.\/|engine\//)
    expect(sources).toMatch(/from "mathdag"/)

    // and it type-checks against the package's public types (offline: Node's types from this checkout)
    const tsc = await exec(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir, "--typeRoots", path.join(ROOT, "node_modules", "@types")], dir)
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0)

    const first = await dagIn(dir, ["run", "example", "--json"])
    expect(first.code, first.stderr).toBe(0)
    expect(statuses(first.stdout)).toEqual({ "example/lines": "computed", "example/clean": "computed", "example/words": "computed" })
    const second = await dagIn(path.join(dir, "data"), ["run", "example", "--json"]) // from a subfolder
    expect(second.code, second.stderr).toBe(0)
    expect(Object.values(statuses(second.stdout))).toEqual(["cached", "cached", "cached"])
    const sql = await dagIn(dir, ["sql", "select n from example_words where word = 'a'", "--format", "json"])
    expect(JSON.parse(sql.stdout)).toEqual([{ n: 6 }])
    expect(fs.existsSync(path.join(dir, ".dag"))).toBe(true) // the store is the project's

    // a helper module the node imports is part of its key: editing it recomputes that node and below
    // (code is hashed per file: every node of nodes/example.ts and what reads them)
    fs.writeFileSync(path.join(dir, "nodes", "text.ts"), "export const normalise = (s: string) => s.toLowerCase()\n")
    const nodeFile = path.join(dir, "nodes", "example.ts")
    fs.writeFileSync(
      nodeFile,
      fs
        .readFileSync(nodeFile, "utf8")
        .replace('import { Line } from "../schemas/line.js"', 'import { Line } from "../schemas/line.js"\nimport { normalise } from "./text.js"')
        .replace("text: row.text.toLowerCase()", "text: normalise(row.text)")
    )
    const third = await dagIn(dir, ["run", "example", "--json"])
    expect(third.code, third.stderr).toBe(0)
    expect(statuses(third.stdout)["example/clean"]).toBe("computed") // its code changed
    fs.writeFileSync(path.join(dir, "nodes", "text.ts"), "export const normalise = (s: string) => s.toUpperCase()\n")
    const fourth = await dagIn(dir, ["run", "example", "--json"])
    expect(statuses(fourth.stdout)).toMatchObject({ "example/clean": "computed", "example/words": "computed" })
    // the new code ran: upper-cased lines hold no [a-z] words
    expect(JSON.parse((await dagIn(dir, ["sql", "select count(*) as n from example_words", "--format", "json"])).stdout)).toEqual([{ n: 0 }])
    // what is not code the nodes import changes nothing
    fs.appendFileSync(path.join(dir, "README.md"), "\nnotes\n")
    expect(Object.values(statuses((await dagIn(dir, ["run", "example", "--json"])).stdout))).toEqual(["cached", "cached", "cached"])
    const why = await dagIn(dir, ["why", "example/clean"])
    expect(why.stdout).toMatch(/up to date/)

    // a new file in pipelines/ is a new pipeline: no registry to edit
    fs.writeFileSync(
      path.join(dir, "pipelines", "second.ts"),
      'import { Pipeline } from "mathdag"\nimport { lines } from "../nodes/example.js"\n\nexport default Pipeline.make("second", (p) => ({ lines: p.add(lines) }))\n'
    )
    const fifth = await dagIn(dir, ["run", "second", "--json"])
    expect(fifth.code, fifth.stderr).toBe(0)
    expect(statuses(fifth.stdout)).toEqual({ "example/lines": "cached" })
    // a typo is met with the nearest name
    const typo = await dagIn(dir, ["run", "exmaple"])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/no pipeline "exmaple"; did you mean "example"\?/)
  }, 300_000)

  it("outside any project, commands say how to make one (exit 2); init refuses an existing project", async () => {
    const dir = tempDir("no-project")
    const r = await dagIn(dir, ["run", "example"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no dag\.config\.ts in .* or any folder above it: .*`dag init`/)
    const again = await dagIn(ROOT, ["init", ROOT])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already has a dag\.config file/)
  }, 120_000)
})

describe("the engine knows nothing of the app", () => {
  it("no file under engine/ imports nodes/, pipelines/, schemas/ or dag.config.ts", () => {
    const offenders: Array<string> = []
    const visit = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name)
        if (e.isDirectory()) visit(p)
        else if (p.endsWith(".ts") && !p.endsWith(path.join("cli", "init.ts"))) {
          for (const m of fs.readFileSync(p, "utf8").matchAll(/^\s*(?:import|export)[^"]*from\s+"([^"]+)"/gm)) {
            if (/(^|\/)(nodes|pipelines|schemas)\/|dag\.config/.test(m[1]!) && m[1]!.startsWith(".")) offenders.push(`${path.relative(ROOT, p)} → ${m[1]}`)
          }
        }
      }
    }
    visit(path.join(ROOT, "engine"))
    expect(offenders).toEqual([])
  })
})

describe("the packed package (npm pack → npm install)", () => {
  it("installs into an empty folder outside the repository; init, run, cache, edit (CODE), discover, and a mis-wired pipeline exit 2", async () => {
    const work = tempDir("packed")
    // --ignore-scripts: `prepare` would rebuild this checkout's dist/ under the other tests' feet
    const pack = await exec("npm", ["pack", "--ignore-scripts", "--pack-destination", work, "--silent"], ROOT)
    expect(pack.code, pack.stderr).toBe(0)
    const tarball = path.join(work, pack.stdout.trim().split("\n").at(-1)!)
    expect(fs.existsSync(tarball), tarball).toBe(true)
    const app = path.join(work, "app")
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }))
    // dependencies come from the npm cache `npm ci` filled (the registry only when missing there)
    const install = await exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], app)
    expect(install.code, install.stderr).toBe(0)
    expect(fs.lstatSync(path.join(app, "node_modules", "mathdag")).isSymbolicLink()).toBe(false) // a real copy, not this checkout
    const dag = path.join(app, "node_modules", ".bin", "dag")
    const run = (args: ReadonlyArray<string>) => {
      const env: NodeJS.ProcessEnv = { ...process.env, CI: "true" }
      for (const k of ["DAG_STORE", "DAG_RUNS", "DAG_NO_REBUILD", "DAG_ROOT", "NODE_PATH"]) delete env[k]
      return exec(dag, args, app, env)
    }

    const init = await run(["init"])
    expect(init.code, init.stderr).toBe(0)
    expect(init.stdout).not.toMatch(/cd \./)
    expect(JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")).dependencies.mathdag).toMatch(/\.tgz$/) // kept, not overwritten
    // a typo in dag.config.ts: one line naming the key, exit 2 (not a stack trace through the bundle)
    const configFile = path.join(app, "dag.config.ts")
    const config = fs.readFileSync(configFile, "utf8")
    fs.writeFileSync(configFile, config.replace('store: ".dag"', 'stroe: ".dag"'))
    const typo = await run(["run", "example"])
    expect(typo.code).toBe(2)
    expect(typo.stderr.trim()).toBe('error: dag.config.ts: unknown key "stroe"; did you mean "store"?')
    fs.writeFileSync(configFile, config)

    const first = await run(["run", "example", "--json"])
    expect(first.code, first.stderr).toBe(0)
    expect(statuses(first.stdout)).toEqual({ "example/lines": "computed", "example/clean": "computed", "example/words": "computed" })
    expect(fs.existsSync(path.join(app, ".mathdag", "build", "dag.cjs"))).toBe(true) // compiled for the user, no build step asked
    expect(Object.values(statuses((await run(["run", "example", "--json"])).stdout))).toEqual(["cached", "cached", "cached"])

    // an edit to the node's code: `dag why` names CODE before the run, and the run recomputes it
    const nodeFile = path.join(app, "nodes", "example.ts")
    fs.writeFileSync(
      nodeFile,
      fs.readFileSync(nodeFile, "utf8").replace("minChars: Schema.optionalWith(Schema.Int, { default: () => 12 })", "minChars: Schema.optionalWith(Schema.Int, { default: () => 1 })")
    )
    const why = await run(["why", "example/clean"])
    expect(why.code, why.stderr).toBe(0)
    expect(why.stdout).toMatch(/CODE/)
    const edited = await run(["run", "example", "--json"])
    // (code is hashed per file, so example/lines, defined in the same file, recomputes too: safe, not minimal)
    expect(statuses(edited.stdout)).toMatchObject({ "example/clean": "computed", "example/words": "computed" })
    const kept = await run(["sql", "select count(*) as n from example_clean", "--format", "json"])
    expect(JSON.parse(kept.stdout)).toEqual([{ n: 5 }]) // the short line is kept now

    // a second pipeline file is found without registration
    fs.writeFileSync(
      path.join(app, "pipelines", "lines-only.ts"),
      'import { Pipeline } from "mathdag"\nimport { lines } from "../nodes/example.js"\n\nexport default Pipeline.make("lines-only", (p) => ({ lines: p.add(lines) }))\n'
    )
    const second = await run(["run", "lines-only", "--json"])
    expect(second.code, second.stderr).toBe(0)
    expect(statuses(second.stdout)).toEqual({ "example/lines": "cached" })

    // a mis-wired pipeline fails at load, naming both nodes and the missing field, before anything runs
    fs.writeFileSync(
      path.join(app, "pipelines", "miswired.ts"),
      'import { Pipeline } from "mathdag"\nimport { clean, lines, words } from "../nodes/example.js"\n\nexport default Pipeline.make("miswired", (p) => {\n  const { counts } = p.add(words, { lines: p.add(lines) })\n  return { cleaned: p.add(clean, counts as never) }\n})\n'
    )
    const runsBefore = fs.readdirSync(path.join(app, "runs")).length
    const bad = await run(["run", "miswired"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/"example\/words" \(output counts\) cannot feed "example\/clean": .*field "text" \(string\) is missing/)
    expect(fs.readdirSync(path.join(app, "runs")).length).toBe(runsBefore) // the mis-wired run never started
  }, 420_000)
})
