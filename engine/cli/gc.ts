/** `dag gc [--keep N]`: delete what no kept run (and no node's latest result) references. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { listRuns, readRun, type RunRecord } from "../journal.js"
import { collectGarbage } from "../store/gc.js"
import { liveLeases } from "../store/leases.js"
import { InputError } from "../errors.js"
import { loadSettings, openStore } from "./context.js"
import { bytes, num } from "./format.js"

export const gcCommand = Command.make(
  "gc",
  {
    keep: Options.integer("keep").pipe(Options.optional, Options.withDescription("keep only the N newest run records, N ≥ 1 (older ones are deleted first)")),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("report what would be removed")),
    profile: Options.text("profile").pipe(Options.optional),
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      if (Option.isSome(o.keep) && o.keep.value < 1) {
        return yield* Effect.fail(new InputError({ message: `--keep ${o.keep.value}: keep at least 1 run record (--keep 1 keeps the newest)` }))
      }
      const live = liveLeases(settings.store)
      if (live.length > 0) {
        const who = live.map((l) => `${l.run} (pid ${l.pid} on ${l.host})`).join(", ")
        return yield* Effect.fail(new InputError({ message: `run ${who} is using this store; gc would delete what it is writing. Run \`dag gc\` again when it has finished` }))
      }
      const store = openStore(settings)
      let ids = listRuns(settings.runs)
      if (Option.isSome(o.keep)) {
        const drop = ids.slice(0, Math.max(0, ids.length - o.keep.value))
        if (!o.dryRun) for (const id of drop) fs.rmSync(path.join(settings.runs, id), { recursive: true, force: true })
        ids = ids.slice(ids.length - drop.length > 0 ? drop.length : 0)
        yield* Console.log(`${o.dryRun ? "would delete" : "deleted"} ${drop.length} old run record(s)`)
      }
      const kept = ids.map((id) => readRun(settings.runs, id)).filter((r): r is RunRecord => r !== undefined)
      const r = collectGarbage(store, kept, o.dryRun)
      yield* Console.log(
        `${o.dryRun ? "would remove" : "removed"} ${num(r.removedObjects)} objects, ${num(r.removedArtifacts)} manifests, ${num(r.removedKeys)} key records — ${bytes(r.freedBytes)} (${kept.length} runs kept)`
      )
    })
).pipe(Command.withDescription("Remove artifacts that no kept run references."))
