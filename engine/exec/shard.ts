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
import { hashFile } from "../store/fsx.js"

export interface ShardResult {
  readonly tmpPath: string
  readonly hash: string
  readonly bytes: number
  readonly rowsIn: number
  readonly rowsOut: number
  readonly dropped: Record<string, number>
  /** worker thread id that ran the shard (0: the main thread) */
  readonly thread: number
}

/** A failure inside the node's own code, with the row that caused it. */
export class RowFunctionError extends Error {}

const countDrop = (dropped: Record<string, number>, reason: string, n = 1) => {
  dropped[reason] = (dropped[reason] ?? 0) + n
}

const finish = async (sink: Awaited<ReturnType<typeof openShardSink>>, tmpPath: string, rowsIn: number, dropped: Record<string, number>): Promise<ShardResult> => {
  const rowsOut = sink.rows()
  await sink.finish(tmpPath)
  const { hash, bytes } = await hashFile(tmpPath)
  return { tmpPath, hash, bytes, rowsIn, rowsOut, dropped, thread: threadId }
}

export const runMapShard = async <P, I, O>(node: MapNode<P, I, O>, params: P, inputPath: string, tmpPath: string): Promise<ShardResult> => {
  const inCols: ReadonlyArray<Column> = columnsOf(node.input.schema)
  const sink = await openShardSink(columnsOf(node.output.schema))
  const dropped: Record<string, number> = {}
  let rowsIn = 0
  try {
    for await (const row of readShardRows(inputPath, inCols)) {
      rowsIn++
      let outcome
      try {
        outcome = node.row(row as I, params)
      } catch (e) {
        const id = (row as { id?: unknown }).id
        throw new RowFunctionError(`node ${node.name}: row function threw on row ${rowsIn}${id !== undefined ? ` (id ${String(id)})` : ""}: ${(e as Error).message}`)
      }
      if (outcome._tag === "Drop") countDrop(dropped, outcome.reason)
      else for (const out of outcome.rows) sink.append(out as Record<string, unknown>)
    }
    return await finish(sink, tmpPath, rowsIn, dropped)
  } catch (e) {
    await sink.abort()
    throw e
  }
}

export const runSourceShard = async <P, O>(node: SourceNode<P, O>, params: P, unit: SourceUnit, tmpPath: string): Promise<ShardResult> => {
  const sink = await openShardSink(columnsOf(node.output.schema))
  const dropped: Record<string, number> = {}
  let rowsIn = 0
  try {
    const ctx = {
      drop: (reason: string) => {
        rowsIn++
        countDrop(dropped, reason)
      },
    }
    for await (const row of node.read(unit, params, ctx)) {
      rowsIn++
      sink.append(row as Record<string, unknown>)
    }
    return await finish(sink, tmpPath, rowsIn, dropped)
  } catch (e) {
    await sink.abort()
    throw e
  }
}
