/**
 * Bounded source units: a large input file is cut into byte ranges of about `shardBytes` at record
 * boundaries (the format decides where a record starts), so one 1 GB WARC becomes ~64 shards (at the default 16 MiB) that
 * run on every worker thread and none holds more than its range. A range's identity is the hash of
 * its own bytes, so an edit inside one range recomputes that range's shard only. A file no larger
 * than `shardBytes` stays one unit with the file's id and fingerprint, exactly as before cutting.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import type { SourceUnit } from "../../engine/node.js"
import { shardBytes } from "../../engine/resources/memory.js"
export { shardBytes }

/** A unit that is a byte range of a local file. */
export interface FileRange {
  readonly file: string
  /** the file's id (its path relative to the project), what rows and lineage name */
  readonly fileId: string
  readonly start: number
  readonly end: number
}

export const rangeOf = (unit: SourceUnit): FileRange => {
  const file = unit.file as string
  const start = typeof unit.start === "number" ? unit.start : 0
  const end = typeof unit.end === "number" ? unit.end : fs.statSync(file).size
  return { file, fileId: typeof unit.fileId === "string" ? unit.fileId : unit.id, start, end }
}

/** SHA-256 of each range [offsets[i], offsets[i + 1]) of a file, in one sequential pass. */
export const hashRanges = (file: string, offsets: ReadonlyArray<number>): Array<string> => {
  const out: Array<string> = []
  const fd = fs.openSync(file, "r")
  const buf = Buffer.allocUnsafe(1 << 20)
  try {
    for (let i = 0; i + 1 < offsets.length; i++) {
      const h = createHash("sha256")
      for (let pos = offsets[i]!; pos < offsets[i + 1]!;) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, offsets[i + 1]! - pos), pos)
        if (n <= 0) throw new Error(`${file} ended at byte ${pos} while it was being cut into shards (did it change?)`)
        h.update(buf.subarray(0, n))
        pos += n
      }
      out.push(h.digest("hex"))
    }
  } finally {
    fs.closeSync(fd)
  }
  return out
}

/**
 * The units of one file unit, given its cut points (ascending offsets from 0 to the size).
 * `extra(i)` adds per-range facts (a JSON Lines range's first line) that also enter its identity.
 */
export const unitsFromCuts = (unit: SourceUnit, cuts: ReadonlyArray<number>, hashes: ReadonlyArray<string>, extra: (i: number) => Readonly<Record<string, number>> = () => ({})): Array<SourceUnit> => {
  const file = unit.file as string
  const size = cuts[cuts.length - 1]!
  if (cuts.length <= 2) return [{ ...unit, fileId: unit.id, start: 0, end: size, ...extra(0) }]
  return hashes.map((hash, i) => {
    const facts = extra(i)
    const suffix = Object.entries(facts)
      .map(([k, v]) => `:${k}=${v}`)
      .join("")
    return { id: `${unit.id}#bytes=${cuts[i]}-${cuts[i + 1]}`, fingerprint: `${hash}${suffix}`, file, fileId: unit.id, start: cuts[i]!, end: cuts[i + 1]!, ...facts }
  })
}

/** Reads [start, end) of a file as a stream; never past `end`, so a file that grows is not followed. */
export const readRange = (r: FileRange): fs.ReadStream => fs.createReadStream(r.file, { start: r.start, end: Math.max(r.start, r.end - 1), highWaterMark: 1 << 20 })

/** Cut points for targets k·target: `next(t)` gives the first record start at or after t (or undefined). */
export const cutsAt = (size: number, target: number, next: (t: number) => number | undefined): Array<number> => {
  const cuts = [0]
  if (size > target) {
    for (let t = target; t < size;) {
      const c = next(t)
      if (c === undefined || c >= size) break
      if (c > cuts[cuts.length - 1]!) cuts.push(c)
      t = Math.max(c + 1, cuts.length * target)
    }
  }
  cuts.push(size)
  return cuts
}
