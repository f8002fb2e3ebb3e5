/**
 * An executor that runs whole nodes' shards somewhere else (a cluster) and commits them to the
 * shared store itself. The run loop still decides what is cached and what to run; it hands the
 * missing shards of a node over in one call and reads back the committed shard records.
 */
import { Context, type Effect } from "effect"
import type { NodeRunError, SlurmError } from "../errors.js"
import type { AnyNode, SourceUnit } from "../node.js"
import type { KeyStruct } from "../plan.js"
import type { ShardRecord } from "../store/store.js"
import type { GlobalRunResult, ResolvedInput } from "./run-global.js"

export interface RemoteShard {
  readonly index: number
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: ReadonlyArray<string>
  readonly input?: string
  readonly unit?: SourceUnit
}

export type RemoteOutcome =
  | { readonly ok: true; readonly index: number; readonly record: ShardRecord; readonly attempts: number }
  | { readonly ok: false; readonly index: number; readonly error: string; readonly attempts: number; readonly log?: string }

export interface RemoteTaskCounts {
  readonly queued: number
  readonly running: number
}

export interface RemoteShardsRequest {
  readonly run: string
  readonly pipeline: string
  readonly node: AnyNode
  readonly shards: ReadonlyArray<RemoteShard>
  /** called as each shard commits, for progress and the journal */
  readonly onCommitted: (outcome: Extract<RemoteOutcome, { ok: true }>) => void
  readonly onTasks: (counts: RemoteTaskCounts) => void
}

export interface RemoteGlobalRequest {
  readonly run: string
  readonly pipeline: string
  readonly node: AnyNode
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: Readonly<Record<string, ResolvedInput>>
  readonly log: (message: string) => void
}

export interface RemoteExecutor {
  readonly name: string
  /** Checks the cluster can take work before anything is submitted. */
  readonly preflight: Effect.Effect<void, SlurmError>
  readonly runShards: (req: RemoteShardsRequest) => Effect.Effect<ReadonlyArray<RemoteOutcome>, SlurmError>
  readonly runGlobal: (req: RemoteGlobalRequest) => Effect.Effect<GlobalRunResult & { readonly host: string; readonly job: string }, NodeRunError | SlurmError>
}

/** Present only when the run goes to a cluster; the local run loop works without it. */
export class RemoteShards extends Context.Tag("mathdag/RemoteShards")<RemoteShards, RemoteExecutor>() {}
