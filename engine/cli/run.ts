/** `dag run PIPELINE`: plan, run what is stale, record everything in the run journal. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { InputError, NotFoundError } from "../errors.js"
import { onCrash } from "../crash.js"
import { Journal, RunJournal, emptyNodeLog, newRecord, newRunId, type NodeLog } from "../journal.js"
import { executorNames, findExecutor } from "../exec/executors.js"
import { RemoteShards } from "../exec/remote.js"
import { didYouMean, suggest } from "../suggest.js"
import { ProgressBar } from "../exec/progress.js"
import { runPipeline, runtimeFacts } from "../exec/runner.js"
import { describePlan, planPipeline } from "../exec/staleness.js"
import { ArtifactStore, type Store } from "../store/store.js"
import { takeLease } from "../store/leases.js"
import { redactUrlCredentials } from "../store/fsx.js"
import { writeReport } from "../report/write.js"
import { rowsOutText } from "../runs.js"
import { getParams, getPipeline, loadSettings, openStore } from "./context.js"
import { num, seconds } from "./format.js"
import { MEMORY_ENV, SHARD_BYTES_ENV } from "../resources/memory.js"
import { profileOption } from "./options.js"

const summaryOf = (n: NodeLog) => ({
  node: n.node,
  status: n.status,
  shards: { total: n.shards.total, cached: n.shards.cached, computed: n.shards.computed },
  rows: { in: n.rows.in, out: n.rows.out },
  dropped: n.dropped,
})

const icon: Record<string, string> = { cached: "·", computed: "✓", partial: "◐", failed: "✗", skipped: "−", pending: "?", running: "…", planned: "?" }

const nodeLine = (store: Store, n: NodeLog, nameWidth: number): string => {
  const drops = Object.entries(n.dropped)
    .map(([k, v]) => `${k}=${num(v)}`)
    .join(" ")
  const shards = n.shards.total > 0 ? `${n.shards.computed}/${n.shards.total} shards computed` : ""
  const err = n.errors.length > 0 ? `  ${redactUrlCredentials(n.errors[n.errors.length - 1]!)}` : ""
  return `  ${icon[n.status] ?? " "} ${n.node.padEnd(nameWidth)} ${n.status.padEnd(8)} ${shards.padEnd(24)} rows ${num(n.rows.in)} → ${rowsOutText(store, n)}${drops ? `  dropped ${drops}` : ""}  ${seconds(n.ms)}${err}`
}

export const runCommand = Command.make(
  "run",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(Args.withDescription("pipeline to run (a file in pipelines/, e.g. demo)")),
    select: Options.text("select").pipe(Options.repeated, Options.withDescription("run only these nodes and their ancestors (repeatable), e.g. --select owm/extract")),
    force: Options.text("force").pipe(Options.repeated, Options.withDescription("recompute these nodes even if cached (repeatable), e.g. --force dedup/minhash")),
    param: Options.text("param").pipe(Options.repeated, Options.withDescription("override a param: NODE.PARAM=VALUE (repeatable), e.g. --param demo/clean.minChars=5")),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the plan and the reason for each node and run nothing, e.g. dag run proof-pile-2 --dry-run")),
    verify: Options.boolean("verify").pipe(Options.withDescription("hash every cached shard before trusting it (slower; by default a shard is hashed when it is read), e.g. --verify")),
    profile: profileOption,
    executor: Options.text("executor").pipe(
      Options.optional,
      Options.withDescription("where shards run, e.g. --executor slurm: local worker threads, or Slurm array jobs against the shared store (default: the profile's, else local)")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print a JSON summary (run id, status, nodes) as the last line of stdout, e.g. dag run demo --json | tail -1 | jq .run")),
    memory: Options.text("memory").pipe(
      Options.optional,
      Options.withDescription("memory budget of the run, e.g. 4GB: DuckDB spills to the store beyond it; Slurm tasks ask for their share (default: config `memory`, else ¼ of RAM, ≤ 1 GiB per thread)")
    ),
    shardBytes: Options.text("shard-bytes").pipe(
      Options.optional,
      Options.withDescription("target input bytes per source shard, e.g. 64MB: larger WARC / JSON Lines / Parquet files are cut at record boundaries (default: config `shardBytes`, else 16 MiB)")
    ),
  },
  (o) =>
    Effect.gen(function* () {
      if (Option.isSome(o.memory)) process.env[MEMORY_ENV] = o.memory.value
      if (Option.isSome(o.shardBytes)) process.env[SHARD_BYTES_ENV] = o.shardBytes.value
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const pipeline = yield* getPipeline(o.pipeline)
      const params = yield* getParams(pipeline, settings, o.param)
      const names = new Set(pipeline.nodes.map((pn) => pn.node.name))
      for (const n of [...o.select, ...o.force]) {
        if (!names.has(n))
          return yield* Effect.fail(
            new NotFoundError({
              what: "node",
              name: n,
              message: `no node "${n}" in pipeline ${pipeline.name}${didYouMean(n, [...names])}; list them with \`dag graph ${pipeline.name}\``,
            })
          )
      }
      const store = openStore(settings)

      if (o.dryRun) {
        const plans = yield* planPipeline(pipeline, params, store, runtimeFacts(), { select: o.select, force: o.force })
        for (const p of plans) yield* Console.log(`  ${p.status === "cached" ? "·" : "→"} ${describePlan(p)}`)
        const stale = plans.filter((p) => p.status === "stale").length
        yield* Console.log(`plan: ${stale} of ${plans.length} nodes would run`)
        if (o.json)
          yield* Console.log(
            JSON.stringify({ run: null, nodes: plans.map((p) => ({ node: p.node, status: p.status === "cached" ? "cached" : "stale", causes: p.causes, shards: p.staleShards ?? null })) })
          )
        return
      }

      const executor = Option.getOrElse(o.executor, () => settings.executor)
      const runner = findExecutor(executor)
      if (!runner) {
        const hint = suggest(executor, executorNames())
        return yield* Effect.fail(new InputError({ message: `unknown executor "${executor}"${hint ? `; did you mean "${hint}"?` : ""} Executors: ${executorNames().join(", ")}` }))
      }
      const runId = newRunId()
      const record = newRecord({
        executor,
        run: runId,
        pipeline: pipeline.name,
        profile: settings.profile,
        dryRun: false,
        argv: process.argv.slice(2),
        overrides: o.param,
        nodes: pipeline.nodes.map((pn) => emptyNodeLog(pn.node.name, pn.node.kind, params.encoded.get(pn.node.name))),
      })
      const journal = new Journal(settings.runs, record)
      journal.event("run-start", { pipeline: pipeline.name, argv: record.argv }, { quiet: true })
      // while this lease lives, `dag gc` leaves the store alone
      // (released when the process exits, however it exits; a killed run's lease expires with its pid)
      process.once("exit", takeLease(settings.store, runId))
      onCrash((message, stack) => {
        journal.event("internal-error", { message, stack })
        journal.finish("failed")
      })
      const layer = Layer.mergeAll(
        Layer.succeed(ArtifactStore, store),
        Layer.succeed(RunJournal, journal),
        ProgressBar.auto(),
        runner.shards({ settings, store, overrides: o.param }),
        runner.remote ? Layer.succeed(RemoteShards, runner.remote({ settings, store, overrides: o.param })) : Layer.empty
      )
      const started = Date.now()
      // measured, not assumed: the longest the event loop (progress, signals) waited on the run's work
      const stalls = monitorEventLoopDelay({ resolution: 10 })
      stalls.enable()
      // and which nodes were running during each long stall (the longest 10 are kept)
      const longStalls: Array<{ atMs: number; ms: number; running: Array<string> }> = []
      let tick = Date.now()
      const watch = setInterval(() => {
        const now = Date.now()
        const late = now - tick - 50
        tick = now
        if (late < 200) return
        longStalls.push({ atMs: now - started - late, ms: late, running: record.nodes.filter((n) => n.status === "running").map((n) => n.node) })
        longStalls.sort((a, b) => b.ms - a.ms).splice(10)
      }, 50)
      watch.unref()
      const result = yield* runPipeline(
        { pipeline, params, select: o.select, force: o.force, dryRun: false, verify: o.verify, concurrency: settings.concurrency, retries: settings.retries },
        runId
      ).pipe(
        Effect.provide(layer),
        // the cluster could not take the work (preflight): nothing was submitted
        Effect.tapError(() => Effect.sync(() => journal.finish("failed"))),
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            // Workers are stopped by now (the layer's scope has closed): sweep our temporaries.
            store.removeOwnTemporaries()
            journal.finish("interrupted")
            process.exitCode = 130
            process.stderr.write(`\nrun ${runId} interrupted — committed shards are kept; run the same command again to resume\n`)
            const note = runner.interruptedNote?.(runId)
            if (note) process.stderr.write(`${note}\n`)
          })
        )
      )
      stalls.disable()
      clearInterval(watch)
      // the histogram can miss a stall the watcher saw (one long first tick): the longest of both
      record.mainThread = { maxStallMs: Math.max(Math.round(stalls.max / 1e6), longStalls[0]?.ms ?? 0), p99StallMs: Math.round(stalls.percentile(99) / 1e6), stalls: longStalls }
      const ran = record.nodes.filter((n) => n.status !== "pending")
      record.nodes = ran
      journal.finish(result.ok ? "ok" : "failed")
      const nameWidth = Math.max(22, ...ran.map((x) => x.node.length))
      const line = (n: NodeLog) => nodeLine(store, n, nameWidth)
      if (ran.length <= 60) for (const n of ran) yield* Console.log(line(n))
      else {
        const count = (s: string) => ran.filter((n) => n.status === s).length
        yield* Console.log(`  ${ran.length} nodes: ${count("cached")} cached, ${count("computed")} computed, ${count("partial")} partial, ${count("failed")} failed, ${count("skipped")} skipped`)
        for (const n of ran.filter((x) => x.status === "failed")) yield* Console.log(line(n))
      }
      const shown = (p: string) => (p.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), p) : p)
      yield* Console.log(`run ${runId}: ${result.ok ? "ok" : "FAILED"} in ${seconds(Date.now() - started)} — journal ${shown(path.join(settings.runs, runId, "run.json"))}`)
      // The report never fails a run: a rendering problem is a warning.
      const report = yield* writeReport(store, settings.runs, record, pipeline).pipe(Effect.either)
      if (report._tag === "Right") yield* Console.log(`report ${shown(report.right.html)}`)
      else yield* Console.error(`warning: the report could not be written: ${String(report.left)}`)
      if (o.json) yield* Console.log(JSON.stringify({ run: runId, nodes: ran.map(summaryOf) }))
      if (!result.ok) process.exitCode = result.badInput ? 2 : 1
    })
).pipe(Command.withDescription("Run a pipeline: only what changed recomputes, down to the shard."))
