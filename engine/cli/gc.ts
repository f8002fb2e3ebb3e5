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
import { profileOption } from "./options.js"

/**
 * Which run records `--keep N` deletes: all but the N newest of each pipeline (pipelines share
 * node names, so one pipeline's runs must not push out another's), never a pipeline's newest
 * successful run (what `dag sql` and the next run start from).
 */
export const runsToDrop = (runs: ReadonlyArray<RunRecord>, keep: number): Array<RunRecord> => {
  const drop: Array<RunRecord> = []
  const byPipeline = new Map<string, Array<RunRecord>>()
  for (const r of runs) {
    const list = byPipeline.get(r.pipeline)
    if (list) list.push(r)
    else byPipeline.set(r.pipeline, [r])
  }
  for (const list of byPipeline.values()) {
    const newestFirst = [...list].sort((a, b) => b.run.localeCompare(a.run))
    const lastGood = newestFirst.find((r) => r.status === "ok" && !r.dryRun)
    drop.push(...newestFirst.slice(keep).filter((r) => r !== lastGood))
  }
  return drop
}

export const gcCommand = Command.make(
  "gc",
  {
    keep: Options.integer("keep").pipe(
      Options.optional,
      Options.withDescription(
        "keep the N newest run records of each pipeline, N ≥ 1 (and always each pipeline's last successful run), e.g. --keep 5; default: every run is kept, only unreferenced entries go"
      )
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("list what would be removed and remove nothing, e.g. dag gc --keep 3 --dry-run")),
    profile: profileOption,
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
      const runs = listRuns(settings.runs)
        .map((id) => readRun(settings.runs, id))
        .filter((r): r is RunRecord => r !== undefined)
      let kept = runs
      if (Option.isSome(o.keep)) {
        const drop = runsToDrop(runs, o.keep.value)
        if (!o.dryRun) for (const r of drop) fs.rmSync(path.join(settings.runs, r.run), { recursive: true, force: true })
        kept = runs.filter((r) => !drop.includes(r))
        yield* Console.log(`${o.dryRun ? "would delete" : "deleted"} ${drop.length} old run record(s), keeping the ${o.keep.value} newest of each pipeline and each pipeline's last successful run`)
      }
      const r = collectGarbage(store, kept, o.dryRun)
      yield* Console.log(
        `${o.dryRun ? "would remove" : "removed"} ${num(r.removedObjects)} objects, ${num(r.removedArtifacts)} manifests, ${num(r.removedKeys)} key records, ${num(r.removedDerived)} cached report results — ${bytes(r.freedBytes)} (${kept.length} runs kept)`
      )
    })
).pipe(Command.withDescription("Remove artifacts that no kept run references."))
