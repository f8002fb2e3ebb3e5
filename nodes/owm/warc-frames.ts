/**
 * WARC record framing ahead of the WARC parser. The parser is only ever given complete records: a
 * record cut short (a file that ends inside its headers or its body) is held back and reported, so a
 * truncated file can neither hang the parser nor yield a silently shortened page. Records larger than
 * `holdLimit` are skipped as they stream by (never buffered) and reported with their type and URL.
 */

export interface Framing {
  /** why the input ended early, if it did */
  truncated?: string
  /** records skipped for their size */
  readonly skipped: Array<{ readonly type: string; readonly url: string; readonly bytes: number }>
}

const HEADER_END = Buffer.from("\r\n\r\n")
const TRAILER = Buffer.from("\r\n\r\n")
/** A WARC header block longer than this is not a WARC header. */
const MAX_HEADER_BYTES = 1 << 20

const headerField = (header: string, name: string): string | undefined => new RegExp(`^${name}:[ \\t]*(.*?)[ \\t]*$`, "im").exec(header)?.[1]

/** Yields each complete record (header, block and a CRLF CRLF trailer) of a decompressed WARC stream. */
export async function* completeRecords(input: AsyncIterable<Buffer>, holdLimit: number, framing: Framing): AsyncGenerator<Buffer> {
  let pending: Array<Buffer> = []
  let pendingBytes = 0
  let need = 0 // bytes of the current record still to come (header mode: 0)
  let skip = 0 // bytes of a skipped record still to discard
  let offset = 0 // bytes consumed before `pending`
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
    pending = n < all.length ? [all.subarray(n)] : []
    pendingBytes = all.length - n
    offset += n
    return all.subarray(0, n)
  }
  for await (const chunk of input) {
    pending.push(chunk)
    pendingBytes += chunk.length
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pendingBytes)
        take(n)
        skip -= n
        if (skip > 0) break
        continue
      }
      if (need > 0) {
        if (pendingBytes < need) break
        const record = take(need)
        need = 0
        yield Buffer.concat([record, TRAILER])
        continue
      }
      // header mode: blank lines between records, then a header block
      const head = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
      pending = head.length ? [head] : []
      let start = 0
      while (start < head.length && (head[start] === 13 || head[start] === 10)) start++
      if (start > 0) {
        take(start)
        continue
      }
      if (head.length === 0) break
      const end = head.indexOf(HEADER_END)
      if (end < 0) {
        if (head.length > MAX_HEADER_BYTES) {
          framing.truncated = `no WARC header end within ${MAX_HEADER_BYTES} bytes at offset ${offset}`
          return
        }
        break
      }
      const header = head.subarray(0, end).toString("latin1")
      if (!header.startsWith("WARC/")) {
        framing.truncated = `no WARC record at offset ${offset}`
        return
      }
      const length = Number(headerField(header, "Content-Length"))
      if (!Number.isSafeInteger(length) || length < 0) {
        framing.truncated = `WARC record at offset ${offset} has no valid Content-Length`
        return
      }
      const total = end + HEADER_END.length + length
      if (length > holdLimit) {
        framing.skipped.push({ type: headerField(header, "WARC-Type") ?? "", url: headerField(header, "WARC-Target-URI") ?? "", bytes: length })
        skip = total
        continue
      }
      need = total
    }
  }
  if (need > 0 || skip > 0) framing.truncated = `the input ends inside a WARC record (${need > 0 ? need - pendingBytes : skip} bytes missing)`
  else if (pendingBytes > 0) framing.truncated = `the input ends inside a WARC header (${pendingBytes} bytes)`
}
