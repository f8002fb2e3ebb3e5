/**
 * Worker-thread entry: receives shard tasks (a map node's input shard, or a source node's unit),
 * loads the pipeline from the registry, runs the node over that shard, and answers with the
 * finished shard's hash and counts. A thread started for one global node (see global-thread.ts)
 * gets a single `global` task instead.
 */
import { parentPort, workerData } from "node:worker_threads"
import { loadPipeline } from "../registry.js"
import { closeInstance, instance } from "../store/duckdb.js"
import { Store } from "../store/store.js"
import type { GlobalNode, SourceUnit } from "../node.js"
import { serializeError, serveGlobalTask, type GlobalThreadTask } from "./global-thread.js"
import { runMapShard, runSourceShard } from "./shard.js"

export interface WorkerTask {
  readonly id: number
  readonly kind: "map" | "source"
  readonly pipeline: string
  readonly node: string
  readonly params: unknown
  readonly inputPath?: string
  readonly unit?: SourceUnit
  readonly tmpPath: string
}

// The pool raises this flag when the run is interrupted; shards check it between rows.
const state: Int32Array | undefined = (workerData as { state?: Int32Array } | null)?.state
const stopped = {
  get aborted() {
    return state !== undefined && Atomics.load(state, 0) === 1
  },
  inRow: (inside: boolean) => {
    if (state) Atomics.store(state, 1, inside ? 1 : 0)
  },
}

// Messages are handled one at a time, so a close request waits for the shard in progress; an
// interrupt for a global node acts at once.
let queue: Promise<void> = Promise.resolve()
let interruptGlobal: (() => void) | undefined
// an interrupt that comes while the pipeline still loads stops the node before it starts
let interruptedEarly = false
parentPort?.on("message", (task: (WorkerTask | (GlobalThreadTask & { id: number })) & { preload?: string; close?: boolean; interrupt?: boolean }) => {
  if (task.interrupt) return interruptGlobal ? interruptGlobal() : void (interruptedEarly = true)
  queue = queue.then(() => (task.kind === "global" ? handleGlobal(task) : handle(task as WorkerTask)))
})

const handleGlobal = async (task: GlobalThreadTask & { id: number }): Promise<void> => {
  const post = (m: object) => parentPort!.postMessage({ id: task.id, ...m })
  try {
    const pipeline = await loadPipeline(task.pipeline)
    const pn = pipeline.nodes.find((n) => n.node.name === task.node)
    if (!pn || pn.node.kind !== "global") throw new Error(`worker: no global node "${task.node}" in pipeline ${task.pipeline}`)
    if (interruptedEarly) return post({ end: "interrupted" })
    const served = serveGlobalTask(pn.node as GlobalNode, task, new Store(task.storeDir), post)
    interruptGlobal = served.interrupt
    await served.done
  } catch (e) {
    post({ end: "failed", error: serializeError(task.node, e) })
  }
}

const handle = async (task: WorkerTask & { preload?: string; close?: boolean }): Promise<void> => {
  if (task.close) {
    await closeInstance()
    process.exit(0)
  }
  if (task.preload) {
    // warm-up: load the pipeline (and with it every node module) before the first shard arrives
    await loadPipeline(task.preload).catch(() => undefined)
    await instance().catch(() => undefined) // this thread's DuckDB, opened while the main thread is busy
    parentPort!.postMessage({ id: 0, ok: true })
    return
  }
  try {
    const pipeline = await loadPipeline(task.pipeline)
    const pn = pipeline.nodes.find((n) => n.node.name === task.node)
    if (!pn || pn.node.kind !== task.kind) throw new Error(`worker: no ${task.kind} node "${task.node}" in pipeline ${task.pipeline}`)
    const result =
      pn.node.kind === "map" ? await runMapShard(pn.node, task.params, task.inputPath!, task.tmpPath, stopped) : await runSourceShard(pn.node as never, task.params, task.unit!, task.tmpPath, stopped)
    parentPort!.postMessage({ id: task.id, ok: true, result })
  } catch (e) {
    parentPort!.postMessage({ id: task.id, ok: false, error: (e as Error).message ?? String(e) })
  }
}
