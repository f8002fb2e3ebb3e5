/** `dag report`: render a run's notebook-style report (also written after every `dag run`). */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { diffRuns } from "../report/diff.js"
import { writeReport } from "../report/write.js"
import { loadPipeline } from "../registry.js"
import { getRun, loadSettings, wantedPipeline, openStore } from "./context.js"
import { pipelineRunOption, profileOption, runOption } from "./options.js"

/** Opens a file with the desktop's handler when there is one; otherwise just says where it is. */
const openFile = (file: string): boolean => {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open"
  try {
    const child = spawn(opener, [file], { detached: true, stdio: "ignore" })
    child.on("error", () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}

export const reportCommand = Command.make(
  "report",
  {
    run: runOption("the latest successful run (a failed run's report is written by `dag run` itself)"),
    pipeline: pipelineRunOption,
    out: Options.file("out").pipe(Options.optional, Options.withDescription("write the HTML here, Markdown beside it, e.g. --out report.html; default: runs/<id>/report.html")),
    open: Options.boolean("open").pipe(Options.withDescription("open the report in the default browser (xdg-open / open / start)")),
    diff: Options.text("diff").pipe(Options.repeated, Options.withDescription("compare two runs (ids, prefixes, latest~N), e.g. --diff latest~1 --diff latest")),
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      if (o.diff.length > 0) {
        if (o.diff.length !== 2) return yield* Console.error("error: --diff takes two run ids: --diff RUN_A --diff RUN_B").pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 2))))
        const a = yield* getRun(settings, o.diff[0], { ok: false })
        const b = yield* getRun(settings, o.diff[1], { ok: false })
        return yield* Console.log(diffRuns(a, b))
      }
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), wantedPipeline(o.pipeline))
      const pipeline = yield* Effect.tryPromise(() => loadPipeline(run.pipeline)).pipe(Effect.option, Effect.map(Option.getOrUndefined))
      const written = yield* writeReport(openStore(settings), settings.runs, run, pipeline, Option.getOrUndefined(o.out))
      const shown = written.html.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), written.html) : written.html
      yield* Console.log(`report ${shown} (${(written.bytes / 1024).toFixed(0)} KB, ${written.ms} ms) and ${path.basename(written.markdown)}`)
      if (o.open && !openFile(written.html)) yield* Console.log(`open ${written.html} in a browser`)
    })
).pipe(Command.withDescription("Render a run's report (HTML and Markdown) from its journal; --diff compares two runs."))
