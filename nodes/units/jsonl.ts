/**
 * Where a JSON Lines file may be cut: after a newline. One pass over the file counts its lines, so
 * each range knows the index of its first line (ids and splits that depend on a line's position
 * stay what they are for the whole file). Gzipped JSON Lines cannot be cut and stay one unit.
 */
import * as fs from "node:fs"
import type { SourceUnit } from "../../engine/node.js"
import { cachedLayout } from "../../engine/fingerprints.js"
import { hashRanges, shardBytes, unitsFromCuts } from "./ranges.js"

export interface JsonlLayout {
  readonly cuts: ReadonlyArray<number>
  /** index of the first line of each range */
  readonly firstLines: ReadonlyArray<number>
  /** lines in the file, a last line without newline included */
  readonly lines: number
  readonly hashes: ReadonlyArray<string>
}

/** Offsets just after each newline at or past multiples of `target`, with line counts. */
export const jsonlLayout = (file: string, target: number): JsonlLayout => {
  const size = fs.statSync(file).size
  const fd = fs.openSync(file, "r")
  const buf = Buffer.allocUnsafe(1 << 20)
  const cuts = [0]
  const firstLines = [0]
  let lines = 0
  let last = -1
  try {
    for (let pos = 0; pos < size;) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos)
      if (n <= 0) break
      for (let i = buf.indexOf(10, 0); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) {
        lines++
        const next = pos + i + 1
        if (next < size && next >= cuts.length * target) {
          cuts.push(next)
          firstLines.push(lines)
        }
      }
      last = buf[n - 1]!
      pos += n
    }
  } finally {
    fs.closeSync(fd)
  }
  if (size > 0 && last !== 10) lines++
  cuts.push(size)
  return { cuts, firstLines, lines, hashes: cuts.length > 2 ? hashRanges(file, cuts) : [] }
}

/** A local JSON Lines file unit → its bounded units; each carries `firstLine` and `fileLines`. */
export const cutJsonl = (unit: SourceUnit): Array<SourceUnit> => {
  if (typeof unit.file !== "string" || /\.gz$/i.test(unit.file)) return [unit]
  const file = unit.file
  const target = shardBytes()
  const layout = cachedLayout(file, `jsonl:${target}`, () => jsonlLayout(file, target))
  return unitsFromCuts(unit, layout.cuts, layout.hashes, (i) => ({ firstLine: layout.firstLines[i]!, fileLines: layout.lines }))
}
