/**
 * The Slurm executor, driver side. Dependencies are engine-driven: a node's shards are submitted
 * when the node becomes ready (its inputs committed), as one array job per node, batched
 * `shardsPerTask` shards per array task and split at MaxArraySize. Completion is read from the
 * shared store (a shard is done when its key record exists), failure from squeue/sacct; failed
 * tasks' uncommitted shards are resubmitted up to `retries` times. Every submitted task is noted
 * per shard key in the store, so a driver that died and is started again re-attaches to tasks
 * that are still queued or running instead of submitting them twice.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeRunError } from "../errors.js"
import type { RemoteExecutor, RemoteGlobalRequest, RemoteOutcome, RemoteShard, RemoteShardsRequest } from "../exec/remote.js"
import { ensureDir, readJsonOr } from "../store/fsx.js"
import type { ShardRecord, Store } from "../store/store.js"
import type { Slurm, TaskState } from "./client.js"
import { batchScript, chunk, sbatchFlags, stderrOf } from "./script.js"
import { resourcesFor, type SlurmSettings } from "./settings.js"
import { clearInflight, nodeDir, readInflight, recordJob, resultPath, tailOf, writeInflight, writeSpec, type GlobalResult, type TaskSpec } from "./spec.js"
import { packageRoot } from "../paths.js"

export interface SlurmExecutorOptions {
  readonly settings: SlurmSettings
  readonly store: Store
  readonly runs: string
  readonly root: string
  readonly profile: string
  readonly overrides: ReadonlyArray<string>
  /** the Node.js binary and dag entry point tasks run (defaults: this process's) */
  readonly nodeBin?: string
  readonly dagBin?: string
}

/** States after which a task will not run again. */
const FINISHED = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"])
/** A task missing from squeue and sacct this many polls in a row is taken as gone. */
const MISSING_POLLS = 3

interface Task {
  readonly job: string
  readonly shards: ReadonlyArray<number>
  readonly attempt: number
  readonly log: string
  missing: number
}

const stateOf = (states: ReadonlyMap<string, TaskState>, job: string): TaskState | undefined =>
  // the job-completion log knows an array only as a whole
  states.get(job) ?? states.get(job.split("_")[0]!)

const failureText = (what: string, job: string, state: string, attempt: number, maxAttempts: number, log: string): string => {
  const tail = tailOf(log)
  const tried = state === "CANCELLED" ? "not retried: it was cancelled" : `attempt ${attempt} of ${maxAttempts}`
  return `${what}: Slurm task ${job} ended ${state} (${tried}); stderr ${log}${
    tail
      ? `\n${tail
          .split("\n")
          .map((l) => `  | ${l}`)
          .join("\n")}`
      : " (empty)"
  }`
}

export const slurmExecutor = (client: Slurm, o: SlurmExecutorOptions): RemoteExecutor => {
  const { settings, store } = o
  let clusterMaxArray = 1001
  let scripts = 0
  const nodeBin = o.nodeBin ?? process.execPath
  // the package's launcher; the task runs in the project's folder (--chdir), where it finds dag.config.ts
  const dagBin = o.dagBin ?? path.join(packageRoot(), "bin", "dag.cjs")

  const specBase = (req: { run: string; pipeline: string; node: { name: string; kind: TaskSpec["kind"] } }) => ({
    format: 1 as const,
    pipeline: req.pipeline,
    node: req.node.name,
    kind: req.node.kind,
    store: store.dir,
    runs: o.runs,
    run: req.run,
    profile: o.profile,
    overrides: o.overrides,
  })

  const committed = (key: string): ShardRecord | undefined => store.committedShard(key)

  const writeScript = (dir: string, text: string): string => {
    const file = path.join(dir, `submit-${process.pid}-${++scripts}.sh`)
    fs.writeFileSync(file, text, { mode: 0o755 })
    return file
  }

  /** Submits shards as array jobs; if a later array of the same call is rejected, the earlier ones are cancelled. */
  const submitShards = (req: RemoteShardsRequest, byIndex: ReadonlyMap<number, RemoteShard>, indices: ReadonlyArray<number>, attempt: number) =>
    Effect.gen(function* () {
      const dir = nodeDir(o.runs, req.run, req.node.name)
      const logs = path.join(dir, "logs")
      ensureDir(logs)
      const resources = resourcesFor(settings, req.node.name)
      const cap = Math.max(1, Math.min(clusterMaxArray, settings.maxArraySize ?? Number.MAX_SAFE_INTEGER))
      const tasks: Array<Task> = []
      const submitted: Array<string> = []
      for (const group of chunk(chunk(indices, settings.shardsPerTask), cap)) {
        const script = writeScript(dir, batchScript({ node: req.node.name, run: req.run, nodeBin, dagBin, store: store.dir, runs: o.runs, setup: resources.setup ?? [], batches: group }))
        const job = yield* client
          .submit(script, sbatchFlags({ node: req.node.name, logs, root: o.root, resources, tasks: group.length }))
          .pipe(Effect.tapError(() => client.cancel(submitted).pipe(Effect.ignore)))
        submitted.push(job)
        // The per-shard notes come before the run's job list: whoever sees a job listed can re-attach to all of it.
        group.forEach((batch, i) => {
          const task: Task = { job: `${job}_${i}`, shards: batch, attempt, log: stderrOf(logs, `${job}_${i}`), missing: 0 }
          tasks.push(task)
          for (const index of batch) writeInflight(store.dir, byIndex.get(index)!.key, { job: task.job, run: req.run, node: req.node.name, attempt, log: task.log })
        })
        recordJob(o.runs, req.run, { job, node: req.node.name, tasks: group.length, shards: group.reduce((a, b) => a + b.length, 0), attempt, at: new Date().toISOString() })
      }
      return tasks
    })

  /** Tasks a previous driver submitted for these shards that are still queued or running. */
  const reattach = (req: RemoteShardsRequest) =>
    Effect.gen(function* () {
      const known = req.shards.flatMap((s) => {
        const i = readInflight(store.dir, s.key)
        return i ? [{ s, i }] : []
      })
      if (known.length === 0) return []
      const states = yield* client.states([...new Set(known.map((k) => k.i.job))])
      const byJob = new Map<string, Task>()
      for (const { s, i } of known) {
        const st = stateOf(states, i.job)
        if (!st || FINISHED.has(st.state)) continue
        const t = byJob.get(i.job) ?? { job: i.job, shards: [], attempt: i.attempt, log: i.log, missing: 0 }
        ;(t.shards as Array<number>).push(s.index)
        byJob.set(i.job, t)
      }
      for (const t of byJob.values())
        recordJob(o.runs, req.run, { job: t.job, node: req.node.name, tasks: 1, shards: t.shards.length, attempt: t.attempt, at: new Date().toISOString(), attached: true })
      return [...byJob.values()]
    })

  const runShards = (req: RemoteShardsRequest) =>
    Effect.gen(function* () {
      const byIndex = new Map(req.shards.map((s) => [s.index, s]))
      writeSpec({
        ...specBase(req),
        shards: Object.fromEntries(
          req.shards.map((s) => [String(s.index), { key: s.key, struct: s.struct, inputs: s.inputs, ...(s.input ? { input: s.input } : {}), ...(s.unit ? { unit: s.unit } : {}) }])
        ),
      })
      const outcomes = new Map<number, RemoteOutcome>()
      const collect = (indices: ReadonlyArray<number>, attempts: number) => {
        let n = 0
        for (const index of indices) {
          if (outcomes.has(index)) continue
          const s = byIndex.get(index)!
          const record = committed(s.key)
          if (!record) continue
          const outcome = { ok: true as const, index, record, attempts }
          outcomes.set(index, outcome)
          clearInflight(store.dir, s.key)
          req.onCommitted(outcome)
          n++
        }
        return n
      }

      let tasks: Array<Task> = yield* reattach(req)
      const attached = new Set(tasks.flatMap((t) => t.shards))
      // A previous driver's task may have committed a shard since the engine planned this node: it needs no task.
      const unattached = req.shards.map((s) => s.index).filter((i) => !attached.has(i))
      collect(unattached, 1)
      const fresh = unattached.filter((i) => !outcomes.has(i))
      if (fresh.length > 0) tasks.push(...(yield* submitShards(req, byIndex, fresh, 1)))

      let interval = settings.pollMs
      while (outcomes.size < req.shards.length) {
        yield* Effect.sleep(interval)
        let changed = false
        const live = tasks.filter((t) => t.shards.some((i) => !outcomes.has(i)))
        const states = yield* client.states(live.map((t) => t.job))
        const retry = new Map<number, Array<number>>()
        let queued = 0
        let running = 0
        for (const t of live) {
          const st = stateOf(states, t.job)
          const left = () => t.shards.filter((i) => !outcomes.has(i))
          if (st?.state === "PENDING") {
            t.missing = 0
            queued += left().length
            continue
          }
          // Only a task that has started can have committed shards: the store is read for those alone.
          if (collect(t.shards, t.attempt) > 0) changed = true
          if (!st && ++t.missing < MISSING_POLLS) continue
          if (st && !FINISHED.has(st.state)) {
            t.missing = 0
            running += left().length
            continue
          }
          tasks = tasks.filter((x) => x !== t)
          const rest = left()
          if (rest.length === 0) continue
          changed = true
          const state = st?.state ?? "(gone from squeue and sacct)"
          if (state === "CANCELLED" || t.attempt > settings.retries) {
            const error = failureText(`shard${rest.length > 1 ? "s" : ""} ${rest.join(", ")} of ${req.node.name}`, t.job, state, t.attempt, settings.retries + 1, t.log)
            for (const index of rest) {
              outcomes.set(index, { ok: false, index, error, attempts: t.attempt, log: t.log })
              clearInflight(store.dir, byIndex.get(index)!.key)
            }
          } else {
            const list = retry.get(t.attempt + 1) ?? []
            list.push(...rest)
            retry.set(t.attempt + 1, list)
          }
        }
        for (const [attempt, indices] of retry) tasks.push(...(yield* submitShards(req, byIndex, indices, attempt)))
        req.onTasks({ queued, running })
        interval = changed ? settings.pollMs : Math.min(settings.pollMaxMs, Math.round(interval * 1.5))
      }
      req.onTasks({ queued: 0, running: 0 })
      return req.shards.map((s) => outcomes.get(s.index)!)
    })

  const runGlobal = (req: RemoteGlobalRequest) =>
    Effect.gen(function* () {
      const dir = nodeDir(o.runs, req.run, req.node.name)
      const logs = path.join(dir, "logs")
      ensureDir(logs)
      const resources = resourcesFor(settings, req.node.name)
      writeSpec({ ...specBase(req), shards: {}, global: { key: req.key, struct: req.struct, inputs: req.inputs } })
      const readResult = (file: string | undefined) => {
        const r = file ? readJsonOr<GlobalResult | undefined>(file, undefined) : undefined
        return r && r.key === req.key ? r : undefined
      }
      const submit = (attempt: number) =>
        Effect.gen(function* () {
          const result = resultPath(o.runs, req.run, req.node.name)
          fs.rmSync(result, { force: true })
          const script = writeScript(dir, batchScript({ node: req.node.name, run: req.run, nodeBin, dagBin, store: store.dir, runs: o.runs, setup: resources.setup ?? [] }))
          const job = yield* client.submit(script, sbatchFlags({ node: req.node.name, logs, root: o.root, resources }))
          const task = { job, attempt, log: stderrOf(logs, job), result }
          writeInflight(store.dir, req.key, { job, run: req.run, node: req.node.name, attempt, log: task.log, result })
          recordJob(o.runs, req.run, { job, node: req.node.name, tasks: 1, shards: 1, attempt, at: new Date().toISOString() })
          return task
        })

      let task: { job: string; attempt: number; log: string; result: string } | undefined
      const previous = readInflight(store.dir, req.key)
      if (previous?.result) {
        const st = stateOf(yield* client.states([previous.job]), previous.job)
        if (st && !FINISHED.has(st.state)) {
          task = { job: previous.job, attempt: previous.attempt, log: previous.log, result: previous.result }
          recordJob(o.runs, req.run, { job: previous.job, node: req.node.name, tasks: 1, shards: 1, attempt: previous.attempt, at: new Date().toISOString(), attached: true })
        } else if (readResult(previous.result)) task = { job: previous.job, attempt: previous.attempt, log: previous.log, result: previous.result }
      }
      task ??= yield* submit(1)

      let interval = settings.pollMs
      let missing = 0
      for (;;) {
        const done = readResult(task.result)
        const st = done ? undefined : stateOf(yield* client.states([task.job]), task.job)
        if (done) {
          clearInflight(store.dir, req.key)
          for (const m of done.logs) req.log(m)
          return { outputs: done.outputs, dropped: done.dropped, droppedSamples: done.droppedSamples, rowsOut: done.rowsOut, host: done.host, job: task.job }
        }
        if ((st && !FINISHED.has(st.state)) || (!st && ++missing < MISSING_POLLS)) {
          yield* Effect.sleep(interval)
          interval = Math.min(settings.pollMaxMs, Math.round(interval * 1.5))
          continue
        }
        // finished without a result (a result written just before the end is read first, above)
        if (readResult(task.result)) continue
        const state = st?.state ?? "(gone from squeue and sacct)"
        if (state === "CANCELLED" || task.attempt > settings.retries) {
          clearInflight(store.dir, req.key)
          return yield* Effect.fail(new NodeRunError({ node: req.node.name, message: failureText(req.node.name, task.job, state, task.attempt, settings.retries + 1, task.log), transient: false }))
        }
        task = yield* submit(task.attempt + 1)
        missing = 0
        interval = settings.pollMs
      }
    })

  return {
    name: "slurm",
    preflight: client.preflight.pipe(
      Effect.tap((c) => Effect.sync(() => (clusterMaxArray = c.maxArraySize))),
      Effect.asVoid
    ),
    runShards,
    runGlobal,
  }
}
