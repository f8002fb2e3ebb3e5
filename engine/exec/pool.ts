/**
 * The shard executor service. The local one keeps a pool of worker threads (one per core by
 * default) for CPU-heavy map nodes; a worker that dies fails its task as transient, so the
 * shard is retried on a fresh worker. The inline one runs shards on the main thread (tests,
 * and nodes that are not CPU-bound).
 */
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { abortable } from "../abortable.js"
import { NodeRunError, type CorruptShardError } from "../errors.js"
import type { MapNode, SourceNode, SourceUnit, StepProgress } from "../node.js"
import { distDir, packageRoot } from "../paths.js"
import { runGlobalOnThread, type GlobalThreadTask } from "./global-thread.js"
import type { GlobalRunResult } from "./run-global.js"
import { runMapShard, runSourceShard, type ShardResult } from "./shard.js"

export interface MapShardTask {
  readonly pipeline: string
  readonly node: MapNode
  readonly params: unknown
  readonly inputPath: string
  readonly tmpPath: string
}

export interface SourceShardTask {
  readonly pipeline: string
  readonly node: SourceNode
  readonly params: unknown
  readonly unit: SourceUnit
  readonly tmpPath: string
}

export interface Executor {
  readonly name: string
  /** How many map shards this executor runs at once. */
  readonly slots: number
  readonly runMapShard: (task: MapShardTask) => Effect.Effect<ShardResult, NodeRunError>
  readonly runSourceShard: (task: SourceShardTask) => Effect.Effect<ShardResult, NodeRunError>
  /** Starts workers ahead of use and has them load the pipeline, so start-up overlaps earlier work. */
  readonly warm?: (pipeline: string) => void
  /** Runs a `worker: true` global node on a thread of its own; absent: it runs on the main thread. */
  readonly runGlobal?: (
    task: GlobalThreadTask,
    hooks: { readonly log: (m: string) => void; readonly progress: (p: StepProgress) => void }
  ) => Effect.Effect<GlobalRunResult, NodeRunError | CorruptShardError>
}

export class ShardExecutor extends Context.Tag("mathdag/ShardExecutor")<ShardExecutor, Executor>() {
  static readonly inline = (slots = 1) => Layer.succeed(ShardExecutor, inlineExecutor(slots))
  static readonly local = (workers: number) =>
    Layer.scoped(
      ShardExecutor,
      Effect.acquireRelease(
        Effect.sync(() => workerPool(workers)),
        (pool) => Effect.promise(() => pool?.close() ?? Promise.resolve())
      ).pipe(Effect.map((pool) => (pool ? poolExecutor(pool) : inlineExecutor(workers))))
    )
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e))

/**
 * Runs a shard on this thread. Interrupting it aborts the shard between rows and waits for it to
 * stop, then removes its temporary: a promise left running could otherwise still write the file
 * after the run has swept its temporaries and exited.
 */
const onThisThread = (node: string, tmpPath: string, context: string, run: (signal: AbortSignal) => Promise<ShardResult>) =>
  abortable(
    run,
    (e) => new NodeRunError({ node, message: `${context}${errorMessage(e)}`, transient: false, cause: e }),
    () => fs.rmSync(tmpPath, { force: true })
  )

export const inlineExecutor = (slots: number): Executor => ({
  name: "inline",
  slots,
  runMapShard: (task) => onThisThread(task.node.name, task.tmpPath, "", (signal) => runMapShard(task.node, task.params, task.inputPath, task.tmpPath, signal)),
  runSourceShard: (task) => onThisThread(task.node.name, task.tmpPath, `unit ${task.unit.id}: `, (signal) => runSourceShard(task.node, task.params, task.unit, task.tmpPath, signal)),
})

const poolExecutor = (pool: WorkerPool): Executor => ({
  name: "worker-threads",
  slots: pool.size,
  warm: (pipeline) => pool.warm(pipeline),
  runGlobal: (task, hooks) => runGlobalOnThread(pool.script, task, hooks),
  runMapShard: (task) => onPool(pool, task.node.name, { kind: "map", pipeline: task.pipeline, node: task.node.name, params: task.params, inputPath: task.inputPath, tmpPath: task.tmpPath }),
  runSourceShard: (task) =>
    onPool(pool, task.node.name, { kind: "source", pipeline: task.pipeline, node: task.node.name, params: task.params, unit: task.unit, tmpPath: task.tmpPath }, `unit ${task.unit.id}: `),
})

const onPool = (pool: WorkerPool, node: string, msg: Record<string, unknown>, context = "") =>
  Effect.tryPromise({
    try: () => pool.run(msg),
    catch: (e) =>
      e instanceof WorkerDied
        ? new NodeRunError({ node, message: `${context}worker thread died: ${e.message}`, transient: true, cause: e })
        : new NodeRunError({ node, message: `${context}${errorMessage(e)}`, transient: false, cause: e }),
  })

class WorkerDied extends Error {}

/** How long a closing worker that is inside a row function may take before it is terminated. */
const STOP_GRACE_MS = 1200
/** How long any other closing worker (inside DuckDB, or still warming up) is waited for. */
const CLOSE_TIMEOUT_MS = 15_000

interface Pending {
  readonly resolve: (r: ShardResult) => void
  readonly reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  busy: number | undefined
  /**
   * Shared with the worker: [0] set to 1 stops its shard between rows, without waiting for its
   * message loop; [1] is 1 while it is inside a row function (plain JavaScript, safe to terminate).
   */
  state: Int32Array
}

/**
 * A pool of `slots` worker threads running this project's worker bundle (beside the CLI bundle),
 * through bin/worker.cjs and V8's code cache; undefined where there is no bundle (sources in tests).
 */
export const workerPool = (slots: number): WorkerPool | undefined => {
  const script = path.join(packageRoot(), "bin", "worker.cjs")
  const bundle = path.join(distDir(), "worker.cjs")
  if (!fs.existsSync(bundle) || !fs.existsSync(script)) return undefined
  process.env.DAG_WORKER_BUNDLE = bundle
  return new WorkerPool(script, slots)
}

export class WorkerPool {
  private readonly slots: Array<Slot> = []
  private readonly queue: Array<{ id: number; msg: Record<string, unknown> }> = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closed = false

  constructor(
    readonly script: string,
    readonly size: number
  ) {}

  private spawn(): Slot {
    const state = new Int32Array(new SharedArrayBuffer(8))
    const worker = new Worker(this.script, { env: process.env, workerData: { state } })
    const slot: Slot = { worker, busy: undefined, state }
    worker.on("message", (m: { id: number; ok: boolean; result?: ShardResult; error?: string }) => {
      if (m.id <= 0) return // a preload finished
      const p = this.pending.get(m.id)
      this.pending.delete(m.id)
      slot.busy = undefined
      if (p) m.ok ? p.resolve(m.result!) : p.reject(new Error(m.error))
      this.pump()
    })
    const die = (why: string) => {
      const idx = this.slots.indexOf(slot)
      if (idx >= 0) this.slots.splice(idx, 1)
      if (slot.busy !== undefined) {
        const p = this.pending.get(slot.busy)
        this.pending.delete(slot.busy)
        p?.reject(new WorkerDied(why))
      }
      slot.busy = undefined
      if (!this.closed) this.pump()
    }
    worker.on("error", (e) => die(e.message))
    worker.on("exit", (code) => die(`exit code ${code}`))
    worker.unref()
    this.slots.push(slot)
    return slot
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === undefined)
      if (!slot && this.slots.length < this.size) slot = this.spawn()
      if (!slot) return
      const task = this.queue.shift()!
      slot.busy = task.id
      slot.worker.postMessage(task.msg)
    }
  }

  warm(pipeline: string): void {
    while (this.slots.length < this.size) this.spawn().worker.postMessage({ id: 0, preload: pipeline })
  }

  run(msg: Record<string, unknown>): Promise<ShardResult> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.queue.push({ id, msg: { ...msg, id } })
      this.pump()
    })
  }

  /**
   * Stops the workers. Terminating a thread while DuckDB works for it aborts the whole process
   * (a native error thrown into a dead thread), so each worker is asked to finish its shard, close
   * DuckDB and exit. The shared stop flag ends a shard at its next row, so that is quick; a worker
   * still inside one long row function after STOP_GRACE_MS is terminated (Ctrl-C acts within 2 s).
   * Any other is waited for: terminating a thread inside a DuckDB call would abort the process.
   */
  async close(): Promise<void> {
    this.closed = true
    for (const slot of this.slots) Atomics.store(slot.state, 0, 1)
    for (const [, p] of this.pending) p.reject(new WorkerDied("the pool is closing"))
    this.queue.length = 0
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const stop = () => void slot.worker.terminate().then(() => resolve())
            const started = Date.now()
            const timer = setInterval(() => {
              if (Atomics.load(slot.state, 1) === 1 || Date.now() - started > CLOSE_TIMEOUT_MS) {
                clearInterval(timer)
                stop()
              }
            }, STOP_GRACE_MS)
            slot.worker.once("exit", () => {
              clearInterval(timer)
              resolve()
            })
            slot.worker.postMessage({ id: -1, close: true })
          })
      )
    )
  }
}
