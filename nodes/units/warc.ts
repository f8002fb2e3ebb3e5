/**
 * Where a WARC file may be cut: at the start of a record. In a gzipped WARC every record is its own
 * gzip member (the WARC spec's recommendation, and what Common Crawl writes), so a cut is a member
 * start: the gzip magic whose first inflated bytes read "WARC/". Only a window after each target
 * offset is read, so cutting a 1 GB file reads a few MB. A file gzipped as one member has no inner
 * cut and stays one unit. A plain WARC is cut by walking the record headers (Content-Length).
 */
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import type { SourceUnit } from "../../engine/node.js"
import { cachedLayout } from "../../engine/fingerprints.js"
import { cutsAt, hashRanges, shardBytes, unitsFromCuts } from "./ranges.js"

const WINDOW = 1 << 20
const WARC_MAGIC = Buffer.from("WARC/")

const readAt = (fd: number, pos: number, length: number): Buffer => {
  const buf = Buffer.allocUnsafe(length)
  const n = fs.readSync(fd, buf, 0, length, pos)
  return buf.subarray(0, n)
}

/** Length of the gzip member header at buf[i] (RFC 1952), or undefined when it is not one. */
export const gzipHeaderLength = (buf: Buffer, i: number): number | undefined => {
  if (buf[i] !== 0x1f || buf[i + 1] !== 0x8b || buf[i + 2] !== 8) return undefined
  const flags = buf[i + 3]!
  if (flags & 0xe0) return undefined
  let p = i + 10
  if (flags & 4) {
    if (p + 2 > buf.length) return undefined
    p += 2 + buf.readUInt16LE(p)
  }
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue
    const zero = buf.indexOf(0, p)
    if (zero < 0) return undefined
    p = zero + 1
  }
  if (flags & 2) p += 2
  return p <= buf.length ? p - i : undefined
}

/** Does a gzip member start at buf[i] whose content begins with a WARC record header? */
const isRecordMember = (buf: Buffer, i: number): boolean => {
  const header = gzipHeaderLength(buf, i)
  if (header === undefined) return false
  try {
    const head = zlib.inflateRawSync(buf.subarray(i + header, i + header + 2048), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    return head.subarray(0, WARC_MAGIC.length).equals(WARC_MAGIC)
  } catch {
    return false
  }
}

const nextMember =
  (fd: number, size: number) =>
  (t: number): number | undefined => {
    for (let pos = t; pos < size; pos += WINDOW) {
      // windows overlap by a header's worth, so a member whose header straddles two windows is seen
      const buf = readAt(fd, pos, WINDOW + 4096)
      for (let i = buf.indexOf(0x1f); i >= 0 && i < WINDOW; i = buf.indexOf(0x1f, i + 1)) {
        if (isRecordMember(buf, i)) return pos + i
      }
    }
    return undefined
  }

/** Offsets of record starts in a plain WARC, walking headers; stops (no more cuts) at anything malformed. */
const plainRecordStarts = (fd: number, size: number): Array<number> => {
  const starts: Array<number> = []
  for (let pos = 0; pos < size;) {
    let head = readAt(fd, pos, 8192)
    while (head[0] === 0x0d || head[0] === 0x0a) {
      pos++
      head = head.subarray(1)
    }
    if (!head.subarray(0, WARC_MAGIC.length).equals(WARC_MAGIC)) break
    let end = head.indexOf("\r\n\r\n")
    if (end < 0) {
      head = readAt(fd, pos, 1 << 20)
      end = head.indexOf("\r\n\r\n")
      if (end < 0) break
    }
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head.subarray(0, end).toString("latin1"))
    if (!length) break
    starts.push(pos)
    pos += end + 4 + Number(length[1]) + 4
  }
  return starts
}

export const warcCuts = (file: string, target: number): Array<number> => {
  const size = fs.statSync(file).size
  if (size <= target) return [0, size]
  const fd = fs.openSync(file, "r")
  try {
    const magic = readAt(fd, 0, 2)
    if (magic[0] === 0x1f && magic[1] === 0x8b) return cutsAt(size, target, nextMember(fd, size))
    const starts = plainRecordStarts(fd, size)
    let k = 0
    return cutsAt(size, target, (t) => {
      while (k < starts.length && starts[k]! < t) k++
      return starts[k]
    })
  } finally {
    fs.closeSync(fd)
  }
}

/** A local WARC file unit → its bounded units (cut points and range hashes cached by content). */
export const cutWarc = (unit: SourceUnit): Array<SourceUnit> => {
  if (typeof unit.file !== "string") return [unit]
  const file = unit.file
  const target = shardBytes()
  const layout = cachedLayout(file, `warc:${target}`, () => {
    const cuts = warcCuts(file, target)
    return { cuts, hashes: cuts.length > 2 ? hashRanges(file, cuts) : [] }
  })
  return unitsFromCuts(unit, layout.cuts, layout.hashes)
}
