/**
 * A global node on a worker thread of its own (`Node.global({ worker: true })`). TF.js training
 * and evaluation run long stretches of synchronous JavaScript; on the main thread they froze the
 * progress display and Ctrl-C for a second at a time. The thread runs the same `runGlobal` the main
 * thread would, against the same store; its log lines and progress come back as messages, and its
 * result (manifests of outputs it already committed) or typed error ends it.
 */
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import { Worker } from "node:worker_threads"
import { CorruptShardError, NodeRunError } from "../errors.js"
import type { GlobalNode, StepProgress } from "../node.js"
import type { Store } from "../store/store.js"
import { runGlobal, type GlobalRunResult, type GlobalWork, type ResolvedInput } from "./run-global.js"

/** What the main thread sends: everything runGlobal needs, as plain data. */
export interface GlobalThreadTask {
  readonly kind: "global"
  readonly pipeline: string
  readonly node: string
  readonly params: unknown
  readonly inputs: Readonly<Record<string, ResolvedInput>>
  readonly storeDir: string
  readonly scratch: string
  readonly key: string
}

/** What the thread sends back, any number of log and progress messages, then one end. */
export type GlobalThreadMessage =
  | { readonly log: string }
  | { readonly progress: StepProgress }
  | { readonly end: "ok"; readonly result: GlobalRunResult }
  | { readonly end: "failed"; readonly error: SerializedError }
  | { readonly end: "interrupted" }

type SerializedError =
  | { readonly _tag: "CorruptShardError"; readonly hash: string; readonly path: string; readonly message: string }
  | { readonly _tag: "NodeRunError"; readonly node: string; readonly message: string; readonly transient: boolean; readonly shard?: number; readonly badInput?: boolean }

/** A failure as plain data for postMessage (anything that is not one of ours becomes a NodeRunError). */
export const serializeError = (node: string, e: NodeRunError | CorruptShardError | unknown): SerializedError => {
  if (e instanceof CorruptShardError) return { _tag: "CorruptShardError", hash: e.hash, path: e.path, message: e.message }
  if (e instanceof NodeRunError)
    return {
      _tag: "NodeRunError",
      node: e.node,
      message: e.message,
      transient: e.transient,
      ...(e.shard !== undefined ? { shard: e.shard } : {}),
      ...(e.badInput ? { badInput: true } : {}),
    }
  return { _tag: "NodeRunError", node, message: e instanceof Error ? e.message : String(e), transient: false }
}

const deserialize = (e: SerializedError): NodeRunError | CorruptShardError =>
  e._tag === "CorruptShardError" ? new CorruptShardError({ hash: e.hash, path: e.path, message: e.message }) : new NodeRunError(e)

/** How long an interrupted thread may take to stop (write its checkpoint, close DuckDB) before it is terminated. */
const STOP_TIMEOUT_MS = 15_000

/**
 * Runs `task` on a fresh worker thread started from `script`. Interrupting the effect interrupts
 * the node inside the thread (its finalizers run: a checkpoint is written, a child server stops),
 * waits for the thread to close its DuckDB and exit, and only terminates it past STOP_TIMEOUT_MS.
 */
export const runGlobalOnThread = (
  script: string,
  task: GlobalThreadTask,
  hooks: { readonly log: (m: string) => void; readonly progress: (p: StepProgress) => void }
): Effect.Effect<GlobalRunResult, NodeRunError | CorruptShardError> =>
  Effect.async<GlobalRunResult, NodeRunError | CorruptShardError>((resume) => {
    const worker = new Worker(script, { env: process.env, workerData: { state: new Int32Array(new SharedArrayBuffer(8)) } })
    let ended = false
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
    const close = () => worker.postMessage({ id: -1, close: true })
    worker.on("message", (m: GlobalThreadMessage & { id?: number }) => {
      if ("log" in m) return hooks.log(m.log)
      if ("progress" in m) return hooks.progress(m.progress)
      if (!("end" in m) || ended) return
      ended = true
      close()
      if (m.end === "ok") resume(Effect.succeed(m.result))
      else if (m.end === "failed") resume(Effect.fail(deserialize(m.error)))
      // the node stopped itself (after our interrupt this resume is ignored)
      else resume(Effect.interrupt)
    })
    const died = (why: string) => {
      if (ended) return
      ended = true
      resume(Effect.fail(new NodeRunError({ node: task.node, message: `node ${task.node}: its worker thread died (${why})`, transient: true })))
    }
    worker.on("error", (e) => died(e.message))
    worker.on("exit", (code) => died(`exit code ${code}`))
    hooks.log(`running on a worker thread of its own (thread ${worker.threadId})`)
    worker.postMessage({ id: 1, ...task })
    return Effect.promise(async () => {
      if (!ended) worker.postMessage({ id: -2, interrupt: true })
      const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    })
  })

/** The thread's side: runs the node, posting log lines and progress; `interrupt` stops it. */
export const serveGlobalTask = (node: GlobalNode, task: GlobalThreadTask, store: Store, post: (m: GlobalThreadMessage) => void): { readonly done: Promise<void>; readonly interrupt: () => void } => {
  const work: GlobalWork = { scratch: task.scratch, key: task.key, progress: (progress) => post({ progress }) }
  const fiber = Effect.runFork(runGlobal(node, task.params, task.inputs, store, (log) => post({ log }), work))
  const done = Effect.runPromise(Fiber.await(fiber)).then((exit) => {
    if (Exit.isSuccess(exit)) return post({ end: "ok", result: exit.value })
    if (Cause.isInterruptedOnly(exit.cause)) return post({ end: "interrupted" })
    const failure = Cause.failureOption(exit.cause)
    post({ end: "failed", error: serializeError(node.name, Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)) })
  })
  return { done, interrupt: () => void Effect.runFork(Fiber.interrupt(fiber)) }
}
