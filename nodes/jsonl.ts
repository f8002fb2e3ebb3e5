/**
 * JSON Lines files (plain or gzip) read line by line as bytes, so one bad line is counted and the
 * rest of the file is read: `invalid-utf8` and `invalid-json` lines are dropped with their line number.
 */
import * as fs from "node:fs"
import { createGunzip } from "node:zlib"

/** Part of a file to read: bytes [start, end), whose first line has index `firstLine`. */
export interface LineRange {
  readonly start: number
  readonly end: number
  readonly firstLine: number
}

async function* byteLines(file: string, range?: LineRange): AsyncGenerator<Buffer> {
  // A range never reads past its end, so a file that grows while being read is not followed.
  const raw = range ? fs.createReadStream(file, { start: range.start, end: Math.max(range.start, range.end - 1) }) : fs.createReadStream(file)
  const input: AsyncIterable<Buffer> = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw
  // The unfinished line is kept as a list of pieces and joined once its newline arrives, so a line
  // of any length is read in linear time (joining per chunk made a 50 MB line quadratic).
  let rest: Array<Buffer> = []
  let restBytes = 0
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let buf = chunk
    let nl = buf.indexOf(10)
    if (nl < 0) {
      rest.push(buf)
      restBytes += buf.length
      continue
    }
    if (restBytes > 0) {
      rest.push(buf.subarray(0, nl))
      yield Buffer.concat(rest, restBytes + nl)
      rest = []
      restBytes = 0
      buf = buf.subarray(nl + 1)
      nl = buf.indexOf(10)
    }
    for (; nl >= 0; nl = buf.indexOf(10)) {
      yield buf.subarray(0, nl)
      buf = buf.subarray(nl + 1)
    }
    if (buf.length > 0) {
      rest.push(buf)
      restBytes += buf.length
    }
  }
  if (restBytes > 0) yield Buffer.concat(rest, restBytes)
}

/** Lines in the file (blank ones included), for splits that depend on a line's position. */
export const countLines = async (file: string): Promise<number> => {
  let n = 0
  for await (const _ of byteLines(file)) n++
  return n
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Parsed objects with their 0-based line index; blank lines are skipped, bad ones counted. */
export async function* jsonLines(file: string, drop: (reason: string, sample?: unknown) => void, range?: LineRange): AsyncGenerator<{ index: number; row: Record<string, unknown> }> {
  let index = (range?.firstLine ?? 0) - 1
  for await (const bytes of byteLines(file, range)) {
    index++
    if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 13)) continue
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch {
      drop("invalid-utf8", { line: index + 1 })
      continue
    }
    let row: unknown
    try {
      row = JSON.parse(text)
    } catch {
      drop("invalid-json", { line: index + 1 })
      continue
    }
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      drop("invalid-json", { line: index + 1 })
      continue
    }
    yield { index, row: row as Record<string, unknown> }
  }
}
