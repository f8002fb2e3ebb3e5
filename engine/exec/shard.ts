/**
 * The unit of work: one shard of a source or map node, from input to a finished, hashed Parquet
 * file in the store's tmp folder. The same functions run inline, in a worker thread, or (later)
 * in a cluster task, so every executor produces byte-identical shards.
 */
import { threadId } from "node:worker_threads"
import type { Column } from "../columns.js"
import { columnsOf } from "../columns.js"
import type { MapNode, SourceNode, SourceUnit } from "../node.js"
import { openShardSink, readShardRows } from "../store/duckdb.js"
import { digestFile } from "../store/checksum.js"

export interface ShardResult {
  readonly tmpPath: string
  readonly hash: string
  readonly bytes: number
  /** fast digest of the file, recorded beside the object so every read can check it */
  readonly check: string
  readonly rowsIn: number
  readonly rowsOut: number
  readonly dropped: Record<string, number>
  /** worker thread id that ran the shard (0: the main thread) */
  readonly thread: number
  /** a few dropped rows per reason, long strings shortened (for the report) */
  readonly droppedSamples: Record<string, Array<unknown>>
}

export const SAMPLES_PER_REASON = 3

/** Shortens long strings so a sampled row stays small in records and journals. */
export const sampleOf = (row: unknown): unknown => {
  if (typeof row === "string") return row.length > 600 ? `${row.slice(0, 600)}…` : row
  if (Array.isArray(row)) return row.slice(0, 20).map(sampleOf)
  if (row && typeof row === "object") return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, sampleOf(v)]))
  return row
}

/** Counts drops by reason and keeps the first few dropped rows of each. */
export class DropLedger {
  readonly counts: Record<string, number> = {}
  readonly samples: Record<string, Array<unknown>> = {}
  drop(reason: string, row?: unknown): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1
    if (row === undefined) return
    const kept = (this.samples[reason] ??= [])
    if (kept.length < SAMPLES_PER_REASON) kept.push(sampleOf(row))
  }
}

/** A failure inside the node's own code, with the row that caused it. */
export class RowFunctionError extends Error {}

const finish = async (sink: Awaited<ReturnType<typeof openShardSink>>, tmpPath: string, rowsIn: number, drops: DropLedger): Promise<ShardResult> => {
  const rowsOut = sink.rows()
  await sink.finish(tmpPath)
  const { hash, bytes, check } = await digestFile(tmpPath)
  return { tmpPath, hash, bytes, check, rowsIn, rowsOut, dropped: drops.counts, droppedSamples: drops.samples, thread: threadId }
}

const resources = new Map<string, Promise<unknown>>()

/** A node's setup result, once per thread for the same params. */
const resourcesFor = <P>(node: MapNode<P>, params: P): Promise<unknown> => {
  if (!node.setup) return Promise.resolve(undefined)
  const key = `${node.name}\u0000${JSON.stringify(params)}`
  let r = resources.get(key)
  if (!r) {
    r = node.setup(params)
    resources.set(key, r)
    r.catch(() => resources.delete(key))
  }
  return r
}

/** Thrown between rows once the run is interrupted, so an abandoned shard stops early. */
export class ShardAborted extends Error {}

/** An AbortSignal, or a worker's view of the pool's shared stop flag. */
export interface StopSignal {
  readonly aborted: boolean
  /** told when a row function starts and ends (a worker may be terminated only inside one) */
  readonly inRow?: (inside: boolean) => void
}

export const runMapShard = async <P, I, O>(node: MapNode<P, I, O>, params: P, inputPath: string, tmpPath: string, signal?: StopSignal): Promise<ShardResult> => {
  const res = await resourcesFor(node, params)
  const inCols: ReadonlyArray<Column> = columnsOf(node.input.schema)
  const sink = await openShardSink(columnsOf(node.output.schema))
  const drops = new DropLedger()
  let rowsIn = 0
  try {
    for await (const row of readShardRows(inputPath, inCols)) {
      if (signal?.aborted) throw new ShardAborted(`node ${node.name}: interrupted`)
      rowsIn++
      let outcome
      try {
        signal?.inRow?.(true)
        outcome = node.row(row as I, params, res)
      } catch (e) {
        const id = (row as { id?: unknown }).id
        throw new RowFunctionError(`node ${node.name}: row function threw on row ${rowsIn}${id !== undefined ? ` (id ${String(id)})` : ""}: ${(e as Error).message}`)
      } finally {
        signal?.inRow?.(false)
      }
      if (outcome._tag === "Drop") drops.drop(outcome.reason, row)
      else for (const out of outcome.rows) sink.append(out as Record<string, unknown>)
      if (sink.full()) await sink.spill()
    }
    return await finish(sink, tmpPath, rowsIn, drops)
  } catch (e) {
    await sink.abort()
    throw e
  }
}

export const runSourceShard = async <P, O>(node: SourceNode<P, O>, params: P, unit: SourceUnit, tmpPath: string, signal?: StopSignal): Promise<ShardResult> => {
  const sink = await openShardSink(columnsOf(node.output.schema))
  const drops = new DropLedger()
  let rowsIn = 0
  try {
    const ctx = {
      drop: (reason: string, sample?: unknown) => {
        rowsIn++
        drops.drop(reason, sample)
      },
    }
    for await (const row of node.read(unit, params, ctx)) {
      if (signal?.aborted) throw new ShardAborted(`node ${node.name}: interrupted`)
      rowsIn++
      sink.append(row as Record<string, unknown>)
      if (sink.full()) await sink.spill()
    }
    return await finish(sink, tmpPath, rowsIn, drops)
  } catch (e) {
    await sink.abort()
    throw e
  }
}
