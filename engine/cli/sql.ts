/** `dag sql "QUERY"`: DuckDB over a run's artifacts, read-only; no query opens a prompt. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as readline from "node:readline"
import { openSqlSession, type SqlSession } from "../inspect/views.js"
import { getRun, loadSettings, wantedPipeline, openStore } from "./context.js"
import { pipelineRunOption, profileOption, runOption } from "./options.js"
import { identifiersIn } from "../runs.js"
import { csvCell, num, table } from "./format.js"

type Format = "table" | "csv" | "json"

const render = (format: Format, r: { columns: ReadonlyArray<string>; rows: ReadonlyArray<Record<string, unknown>> }): string => {
  if (format === "json") return JSON.stringify(r.rows)
  if (format === "csv") return [r.columns.map(csvCell).join(","), ...r.rows.map((row) => r.columns.map((c) => csvCell(row[c])).join(","))].join("\n")
  return `${table(
    r.columns,
    r.rows.map((row) => r.columns.map((c) => row[c]))
  )}\n(${num(r.rows.length)} row${r.rows.length === 1 ? "" : "s"})`
}

const prompt = (session: SqlSession, format: Format) =>
  Effect.async<void>((resume) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: "dag sql> ", terminal: process.stdin.isTTY })
    console.log(`views: ${session.views.map((v) => v.name).join(", ")}\nend a query with ";" — .views lists views, .quit leaves`)
    let buffer = ""
    // Lines are handled one after another, so piped input (queries then EOF) finishes every query.
    let chain: Promise<void> = Promise.resolve()
    const handle = async (line: string): Promise<boolean> => {
      const t = line.trim()
      if (buffer === "" && (t === ".quit" || t === ".exit")) return false
      if (buffer === "" && t === ".views") {
        console.log(
          table(
            ["view", "node", "rows", "shards"],
            session.views.map((v) => [v.name, `${v.node}.${v.output}`, num(v.rows), v.shards])
          )
        )
        return true
      }
      buffer += line + "\n"
      if (!t.endsWith(";")) return true
      const q = buffer
      buffer = ""
      const r = await Effect.runPromise(session.query(q).pipe(Effect.either))
      console.log(r._tag === "Right" ? render(format, r.right) : `error: ${r.left.message}`)
      return true
    }
    let open = true
    rl.prompt()
    rl.on("line", (line) => {
      chain = chain.then(async () => {
        if (!open) return
        if (!(await handle(line))) {
          open = false
          rl.close()
        } else rl.prompt()
      })
    })
    rl.on("close", () => void chain.then(() => resume(Effect.void)))
  })

export const sqlCommand = Command.make(
  "sql",
  {
    query: Args.text({ name: "query" }).pipe(Args.optional, Args.withDescription('a SELECT over the run\'s views, e.g. "select count(*) from owm_filter"; omit it for an interactive prompt')),
    run: runOption("the latest successful run holding the views the query names"),
    pipeline: pipelineRunOption,
    format: Options.choice("format", ["table", "csv", "json"]).pipe(
      Options.withDefault("table" as const),
      Options.withDescription("how rows are printed, e.g. --format csv > rows.csv; default: table")
    ),
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), { ...wantedPipeline(o.pipeline), ...(Option.isSome(o.query) ? { views: identifiersIn(o.query.value) } : {}) })
      yield* Effect.acquireUseRelease(
        openSqlSession(openStore(settings), run, { verify: process.env.DAG_UNCHECKED_READS !== "1", ...(Option.isSome(o.query) ? { expect: o.query.value } : {}) }),
        (session) => (Option.isNone(o.query) ? prompt(session, o.format) : session.query(o.query.value).pipe(Effect.flatMap((r) => Console.log(render(o.format, r))))),
        (session) => Effect.sync(() => session.close())
      )
    })
).pipe(Command.withDescription("Query any dataset of a run with DuckDB SQL (views are named after nodes: demo/top-words → demo_top_words). Read-only."))
