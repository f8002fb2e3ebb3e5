/**
 * Where a Parquet file may be cut: between row groups. Row-group sizes come from the file's footer
 * (DuckDB's parquet_metadata); consecutive groups are joined until they hold about `shardBytes` of
 * compressed data. A range is rows [rowStart, rowEnd) of the file. Its identity is the file's
 * content hash and the row range: Parquet offers no cheap hash of a row group's own bytes, so an
 * edited Parquet file recomputes all of its ranges.
 */
import type { SourceUnit } from "../../engine/node.js"
import { cachedLayoutAsync } from "../../engine/fingerprints.js"
import { connect, sqlString } from "../../engine/store/duckdb.js"
import { shardBytes } from "./ranges.js"

/** Row offsets where ranges start, and the file's row count last. */
export const parquetRowCuts = async (file: string, target: number): Promise<Array<number>> => {
  const conn = await connect()
  try {
    const reader = await conn.runAndReadAll(
      `SELECT row_group_id, any_value(row_group_num_rows)::BIGINT AS rows, sum(total_compressed_size)::BIGINT AS bytes
       FROM parquet_metadata(${sqlString(file)}) GROUP BY 1 ORDER BY 1`
    )
    const cuts = [0]
    let rows = 0
    let bytes = 0
    for (const g of reader.getRowObjectsJS()) {
      if (bytes >= target) {
        cuts.push(rows)
        bytes = 0
      }
      rows += Number(g.rows)
      bytes += Number(g.bytes)
    }
    cuts.push(rows)
    return cuts
  } finally {
    conn.closeSync()
  }
}

/** A local Parquet file unit → units of whole row groups, each with `rowStart` and `rowEnd`. */
export const cutParquet = async (unit: SourceUnit): Promise<Array<SourceUnit>> => {
  if (typeof unit.file !== "string" || !/\.parquet$/i.test(unit.file)) return [unit]
  const file = unit.file
  const target = shardBytes()
  // A file whose footer cannot be read stays one unit, so the source reports it as bad input.
  const cuts = await cachedLayoutAsync(file, `parquet:${target}`, () => parquetRowCuts(file, target)).catch(() => [])
  if (cuts.length <= 2) return [unit]
  return cuts.slice(0, -1).map((rowStart, i) => ({
    ...unit,
    id: `${unit.id}#rows=${rowStart}-${cuts[i + 1]}`,
    fingerprint: `${unit.fingerprint}:rows=${rowStart}-${cuts[i + 1]}`,
    fileId: unit.id,
    rowStart,
    rowEnd: cuts[i + 1]!,
  }))
}
