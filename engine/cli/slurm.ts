/**
 * `dag exec-shard RUN NODE SHARD...`: what a Slurm task runs (users rarely call it by hand).
 * `dag cancel [RUN]`: scancels every job a run submitted or re-attached to.
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { InputError, NodeRunError, NotFoundError } from "../errors.js"
import { slurmCommands } from "../slurm/client.js"
import { inflightJobsOf, readJobs, readSpec } from "../slurm/spec.js"
import { currentJob, runTaskGlobal, runTaskShards, type ShardCompute } from "../slurm/task.js"
import { workerPool } from "../exec/pool.js"
import { Store } from "../store/store.js"
import { getParams, getPipeline, getRun, loadSettings } from "./context.js"
import { profileOption } from "./options.js"

export const execShardCommand = Command.make(
  "exec-shard",
  {
    run: Args.text({ name: "run" }).pipe(Args.withDescription("the run that submitted the task")),
    node: Args.text({ name: "node" }).pipe(Args.withDescription("the node, e.g. owm/extract")),
    shards: Args.integer({ name: "shard" }).pipe(Args.repeated, Args.withDescription("shard indices to compute (none for a global node)")),
  },
  (o) =>
    Effect.gen(function* () {
      const base = yield* loadSettings(undefined)
      const spec = readSpec(base.runs, o.run, o.node)
      if (!spec) {
        return yield* Effect.fail(
          new NotFoundError({
            what: "task spec",
            name: `${o.run}/${o.node}`,
            message: `no task spec for node ${o.node} of run ${o.run} under ${base.runs}: is the runs folder on the shared filesystem (DAG_RUNS)?`,
          })
        )
      }
      const settings = yield* loadSettings(spec.profile)
      const pipeline = yield* getPipeline(spec.pipeline)
      const params = yield* getParams(pipeline, settings, spec.overrides)
      const store = new Store(spec.store)
      store.init()
      // scancel (SIGTERM) mid-shard: remove what this process half-wrote; nothing was committed
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.on(signal, () => {
          store.removeOwnTemporaries()
          process.stderr.write(`${signal}: task ${currentJob() ?? process.pid} stopped; its uncommitted shards are left to a retry\n`)
          process.exit(143)
        })
      }
      const say = (line: string) => process.stdout.write(`${line}\n`)
      if (spec.kind === "global") {
        if (o.shards.length > 0) return yield* Effect.fail(new InputError({ message: `${o.node} is a global node: exec-shard takes no shard indices for it` }))
        const r = yield* Effect.tryPromise({
          try: () => runTaskGlobal(spec, pipeline, params, store, say),
          catch: (e) => new NodeRunError({ node: o.node, message: (e as Error).message ?? String(e), transient: false }),
        })
        say(`${o.node}: ${r.rowsOut} rows out in ${r.ms} ms on ${r.host}`)
        return
      }
      if (o.shards.length === 0) return yield* Effect.fail(new InputError({ message: `give the shard indices of ${o.node} to compute` }))
      // A task given several CPUs computes that many shards at once; CPU-heavy nodes on worker threads.
      const cpus = Math.max(1, Number(process.env.SLURM_CPUS_PER_TASK ?? 1) || 1)
      const slots = Math.min(cpus, o.shards.length)
      const pn = pipeline.nodes.find((n) => n.node.name === spec.node)
      const useThreads = slots > 1 && pn !== undefined && pn.node.kind !== "global" && pn.node.worker === true
      const pool = useThreads ? workerPool(slots) : undefined
      const values = params.values.get(spec.node)
      const compute: ShardCompute | undefined = pool
        ? async (_index, s, tmp) =>
            pool.run(
              spec.kind === "map"
                ? { kind: "map", pipeline: spec.pipeline, node: spec.node, params: values, inputPath: await Effect.runPromise(store.verifyObject(s.input!, ".parquet")), tmpPath: tmp }
                : { kind: "source", pipeline: spec.pipeline, node: spec.node, params: values, unit: s.unit, tmpPath: tmp }
            )
        : undefined
      const r = yield* Effect.tryPromise({
        try: () => runTaskShards(spec, pipeline, params, store, o.shards, say, (line) => process.stderr.write(`${line}\n`), { slots, ...(compute ? { compute } : {}) }).finally(() => pool?.close()),
        catch: (e) => new NodeRunError({ node: o.node, message: (e as Error).message ?? String(e), transient: false }),
      })
      say(`${o.node}: ${r.computed} computed, ${r.skipped} already committed, ${r.failed} failed`)
      if (r.failed > 0) process.exitCode = 1
    })
).pipe(Command.withDescription("Compute shards of a node for a run submitted to Slurm (what each array task runs)."))

export const cancelCommand = Command.make(
  "cancel",
  {
    run: Args.text({ name: "run" }).pipe(Args.optional, Args.withDescription("the run whose jobs to cancel, e.g. 20261205-0312; default: the latest run")),
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), { ok: false })
      // the run's job list, and the jobs its in-flight notes name (a driver killed just after sbatch listed none)
      const ids = [...new Set([...readJobs(settings.runs, run.run).map((j) => j.job), ...inflightJobsOf(settings.store, run.run)])]
      if (ids.length === 0) return yield* Console.log(`run ${run.run} submitted no Slurm jobs; nothing to cancel`)
      yield* slurmCommands().cancel(ids)
      yield* Console.log(`cancelled ${ids.length} Slurm job${ids.length > 1 ? "s" : ""} of run ${run.run}: ${ids.join(" ")}`)
      if (run.status === "running") yield* Console.log(`the driver of run ${run.run} (pid ${run.pid} on ${run.host}) will report the cancelled shards as failed`)
    })
).pipe(Command.withDescription("Cancel (scancel) every Slurm job a run submitted; committed shards are kept."))
