/** `dag doctor`: check the whole store and move what is damaged aside, so the next run repairs it. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { examineStore } from "../store/doctor.js"
import { loadSettings, openStore } from "./context.js"
import { bytes, num } from "./format.js"
import { profileOption } from "./options.js"

export const doctorCommand = Command.make(
  "doctor",
  {
    json: Options.boolean("json").pipe(Options.withDescription("print the findings as JSON, e.g. dag doctor --json | jq .findings")),
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const store = openStore(settings)
      const tty = process.stderr.isTTY && !o.json
      let last = 0
      const report = yield* examineStore(store, settings.runs, (done, total, read) => {
        if (!tty || (Date.now() - last < 100 && done < total)) return
        last = Date.now()
        process.stderr.write(`\rchecking objects ${num(done)}/${num(total)} (${bytes(read)})${done === total ? "\n" : ""}`)
      })
      if (o.json) yield* Console.log(JSON.stringify(report))
      else {
        yield* Console.log(
          `checked ${num(report.objects)} objects (${bytes(report.objectBytes)}), ${num(report.metadataFiles)} metadata files and ${num(report.runs)} run journals in ${settings.store}`
        )
        yield* Console.log(
          report.findings.length === 0 ? "the store is healthy" : `${report.findings.length} problem(s) found:\n${report.findings.map((f) => `- ${f.file}: ${f.problem}\n  → ${f.action}`).join("\n")}`
        )
      }
      // Found-and-repaired still exits 1: a script that runs doctor should hear that something was wrong.
      if (report.findings.length > 0) process.exitCode = 1
    })
).pipe(
  Command.withDescription(
    "Check the whole store: every shard against its digest, every manifest, key record, ref, index and journal. Damaged files are moved to <store>/quarantine/ (never deleted) and the next run recomputes them. Exit 1 when anything was found."
  )
)
