/**
 * The task side of the Slurm executor: what `dag exec-shard RUN NODE SHARD...` does on a compute
 * node. Each shard is computed with the same functions the local executor uses, written to the
 * store's tmp folder, and committed by rename; the shard's key record is written last, so the
 * driver (polling the store) sees a shard only once it is whole. A shard already committed (by
 * an earlier attempt, or a task a restarted driver resubmitted) is skipped, never redone.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import type { GlobalNode, MapNode, SourceNode } from "../node.js"
import type { ResolvedParams } from "../params.js"
import type { Pipeline } from "../pipeline.js"
import { keyOf, keyStruct, type KeyStruct } from "../plan.js"
import { inScratch, runGlobal } from "../exec/run-global.js"
import { runMapShard, runSourceShard, type ShardResult } from "../exec/shard.js"
import { writeFileAtomic } from "../store/fsx.js"
import type { Store } from "../store/store.js"
import { resultPath, type GlobalResult, type ShardSpec, type TaskSpec } from "./spec.js"

const host = os.hostname()
/** "12_3" inside an array task, "12" in a single job, undefined outside Slurm. */
export const currentJob = (): string | undefined => {
  const array = process.env.SLURM_ARRAY_JOB_ID
  if (array && process.env.SLURM_ARRAY_TASK_ID) return `${array}_${process.env.SLURM_ARRAY_TASK_ID}`
  return process.env.SLURM_JOB_ID
}

const nodeOf = (pipeline: Pipeline, spec: TaskSpec) => {
  const pn = pipeline.nodes.find((n) => n.node.name === spec.node)
  if (!pn || pn.node.kind !== spec.kind) throw new Error(`no ${spec.kind} node "${spec.node}" in pipeline ${pipeline.name}`)
  return pn.node
}

/**
 * The driver computed the key from its code and params; a task on a node whose checkout differs
 * (another commit, an edited param layer) would commit a result under a key it does not match.
 */
const checkSameCode = (node: { readonly name: string }, params: ResolvedParams, struct: KeyStruct, key: string, nodeDef: Parameters<typeof keyStruct>[0]) => {
  const mine = keyStruct(nodeDef, params.encoded.get(node.name), struct.inputs, struct.runtime, struct.shard)
  if (keyOf(mine) !== key) {
    const what = mine.codeHash !== struct.codeHash ? "code" : JSON.stringify(mine.params) !== JSON.stringify(struct.params) ? "params" : "node definition"
    throw new Error(`this task's ${what} differs from the driver's for ${node.name}: the compute nodes must see the same checkout (shared filesystem) and dag.config.ts`)
  }
}

export interface TaskOutcome {
  readonly computed: number
  readonly skipped: number
  readonly failed: number
}

/** Computes one shard into `tmp`: on this thread, or on a worker thread when the task has several CPUs. */
export type ShardCompute = (index: number, spec: ShardSpec, tmp: string) => Promise<ShardResult>

export const runTaskShards = async (
  spec: TaskSpec,
  pipeline: Pipeline,
  params: ResolvedParams,
  store: Store,
  indices: ReadonlyArray<number>,
  say: (line: string) => void,
  warn: (line: string) => void,
  parallel: { readonly slots: number; readonly compute?: ShardCompute } = { slots: 1 }
): Promise<TaskOutcome> => {
  const node = nodeOf(pipeline, spec) as MapNode | SourceNode
  const values = params.values.get(node.name)
  const job = currentJob()
  const inline: ShardCompute = async (_index, s, tmp) =>
    node.kind === "map" ? await runMapShard(node, values, await Effect.runPromise(store.verifyObject(s.input!, ".parquet")), tmp) : await runSourceShard(node, values, s.unit!, tmp)
  const compute = parallel.compute ?? inline
  let computed = 0
  let skipped = 0
  let failed = 0
  const one = async (index: number): Promise<void> => {
    const s = spec.shards[String(index)]
    try {
      if (!s) throw new Error(`shard ${index} is not in ${spec.node}'s spec for run ${spec.run}`)
      checkSameCode(node, params, s.struct, s.key, node)
      const committed = store.committedShard(s.key)
      if (committed) {
        say(`shard ${index}: already committed by ${committed.job ?? committed.run} on ${committed.host}; skipped`)
        skipped++
        return
      }
      const started = Date.now()
      const tmp = store.tempPath(`${node.name.replaceAll("/", "_")}-${index}.parquet`)
      try {
        const result = await compute(index, s, tmp)
        const { ms } = await store.commitShard(tmp, result, { key: s.key, struct: s.struct, inputs: s.inputs, run: spec.run, ...(job ? { job } : {}), host, started })
        say(`shard ${index}: computed ${result.rowsOut} rows in ${ms} ms on ${host}${result.thread ? ` (thread ${result.thread})` : ""}`)
        computed++
      } finally {
        fs.rmSync(tmp, { force: true })
      }
    } catch (e) {
      warn(`shard ${index} of ${spec.node} failed: ${(e as Error).message ?? String(e)}`)
      failed++
    }
  }
  // a few shards at a time (one per CPU the task was given); each commits on its own
  const queue = [...indices]
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(parallel.slots, queue.length)) }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) await one(i)
    })
  )
  return { computed, skipped, failed }
}

/** Runs a global node as one job and writes its outputs to result.json (the objects are already committed). */
export const runTaskGlobal = async (spec: TaskSpec, pipeline: Pipeline, params: ResolvedParams, store: Store, say: (line: string) => void): Promise<GlobalResult> => {
  const g = spec.global
  if (!g) throw new Error(`${spec.node}'s spec for run ${spec.run} has no global section`)
  const node = nodeOf(pipeline, spec) as GlobalNode
  checkSameCode(node, params, g.struct, g.key, node)
  const started = Date.now()
  const logs: Array<string> = []
  const log = (m: string) => {
    logs.push(m)
    say(m)
  }
  const r = await Effect.runPromise(inScratch(store, g.key, log, (work) => runGlobal(node, params.values.get(node.name), g.inputs, store, log, work)))
  const result: GlobalResult = { key: g.key, ...r, host, ms: Date.now() - started, logs }
  writeFileAtomic(store.tmp, resultPath(spec.runs, spec.run, spec.node), JSON.stringify(result))
  return result
}
