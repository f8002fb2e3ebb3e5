/**
 * Where a run's shards compute, by name: `local` (worker threads on this machine) and `slurm`
 * (array jobs against the shared store). An executor gives the run its Layers — the in-process
 * ShardExecutor and, for a cluster, the RemoteShards the runner submits misses to — so the runner
 * and the CLI never name one. A node library adds its own through an extension (`executors`).
 */
import type { Layer } from "effect"
import type { Settings } from "../config.js"
import { slurm } from "../slurm/plugin.js"
import type { Store } from "../store/store.js"
import { ShardExecutor } from "./pool.js"
import type { RemoteExecutor } from "./remote.js"

export interface ExecutorContext {
  readonly settings: Settings
  readonly store: Store
  /** the run's --param overrides, for executors that start the CLI elsewhere */
  readonly overrides: ReadonlyArray<string>
}

export interface Executor {
  readonly name: string
  /** one line for `dag run --help` */
  readonly description: string
  /** what computes shards in this process (worker threads, or inline beside a cluster) */
  readonly shards: (ctx: ExecutorContext) => Layer.Layer<ShardExecutor>
  /** a cluster: where the runner submits the shards and global nodes whose keys miss */
  readonly remote?: (ctx: ExecutorContext) => RemoteExecutor
  /** what a user should know when a run on this executor is interrupted */
  readonly interruptedNote?: (runId: string) => string
}

const local: Executor = {
  name: "local",
  description: "worker threads on this machine",
  shards: (ctx) => ShardExecutor.local(ctx.settings.workers),
}

const registry = new Map<string, Executor>([local, slurm].map((e) => [e.name, e]))

export const registerExecutor = (e: Executor): void => void registry.set(e.name, e)
export const executorNames = (): ReadonlyArray<string> => [...registry.keys()]
export const findExecutor = (name: string): Executor | undefined => registry.get(name)
