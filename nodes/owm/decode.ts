/**
 * Bytes of an HTML response → text: the declared charset (HTTP header, then <meta>), else UTF-8,
 * else a detected charset; binary bodies served as text/html are refused. Returns a reason when
 * the body cannot be decoded, so the caller counts it instead of guessing.
 */
import chardet from "chardet"
import iconv from "iconv-lite"

export type Decoded = { readonly ok: true; readonly text: string; readonly charset: string } | { readonly ok: false; readonly reason: string }

const declared = (contentType: string | null | undefined, head: string): string | undefined => {
  const fromHeader = /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType ?? "")?.[1]
  if (fromHeader) return fromHeader.toLowerCase()
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1]?.toLowerCase()
}

const looksBinary = (bytes: Uint8Array): boolean => {
  const n = Math.min(bytes.length, 4096)
  let control = 0
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!
    if (b === 0) return true
    if (b < 9 || (b > 13 && b < 32)) control++
  }
  return n > 0 && control / n > 0.1
}

/**
 * Statistical detection is unsure between single-byte Latin code pages on short pages; when
 * Western European (windows-1252, a superset of ISO-8859-1) is a close second, it wins.
 */
const detect = (bytes: Uint8Array): string | undefined => {
  const candidates = chardet.analyse(bytes).filter((c) => c.name.toLowerCase() !== "utf-8" && c.confidence > 0)
  const top = candidates[0]
  if (!top) return undefined
  const western = candidates.find((c) => /^(iso-8859-1|windows-1252)$/i.test(c.name))
  if (western && /^(iso-8859-\d+|windows-125\d)$/i.test(top.name) && top.confidence - western.confidence <= 15) return "windows-1252"
  return top.name
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

export const decodeHtml = (bytes: Uint8Array, contentType: string | null | undefined): Decoded => {
  if (bytes.length === 0) return { ok: false, reason: "empty-body" }
  if (looksBinary(bytes)) return { ok: false, reason: "binary-body" }
  const head = Buffer.from(bytes.subarray(0, 2048)).toString("latin1")
  const charset = declared(contentType, head)
  if (charset && charset !== "utf-8" && charset !== "utf8" && iconv.encodingExists(charset)) {
    return { ok: true, text: iconv.decode(Buffer.from(bytes), charset), charset }
  }
  try {
    return { ok: true, text: utf8.decode(bytes), charset: "utf-8" }
  } catch {
    const guess = detect(bytes)
    if (guess && iconv.encodingExists(guess)) return { ok: true, text: iconv.decode(Buffer.from(bytes), guess), charset: guess.toLowerCase() }
    return { ok: false, reason: "undecodable" }
  }
}
