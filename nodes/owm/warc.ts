/**
 * owm/warc: WARC files (local paths, globs, http(s) URLs, or `.paths` lists of them, as Common
 * Crawl publishes) → one WebPage row per HTML `response` record; one shard per WARC file, or per
 * about `shardBytes` of a larger local one (cut at gzip members, nodes/units/warc.ts).
 * Nothing here is fatal: unreadable records, bodies and files are counted with a reason.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Readable } from "node:stream"
import { createGunzip } from "node:zlib"
import { WARCParser } from "warcio"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import { resolveInput } from "../../engine/paths.js"
import { WebPage } from "../../schemas/web-page.js"
import { fileIdOf, listFiles } from "../files.js"
import { cutWarc } from "../units/warc.js"
import { rangeOf, readRange } from "../units/ranges.js"
import { completeRecords, type Framing } from "./warc-frames.js"

/** Room for a response's HTTP headers on top of maxPageBytes when records are framed. */
const HTTP_HEADER_ROOM = 1 << 20
import { decodeHtml } from "./decode.js"

const Params = Schema.Struct({
  paths: Schema.optionalWith(Schema.String, { default: () => "samples/owm/*.warc.gz" }),
  /** prefix for relative entries of a `.paths` list (Common Crawl's warc.paths files) */
  baseUrl: Schema.optionalWith(Schema.String, { default: () => "https://data.commoncrawl.org/" }),
  /** responses larger than this are counted as too-large and not read */
  maxPageBytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 5 * 1024 * 1024 }),
  timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30_000 }),
  retries: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 3 }),
})
type Params = Schema.Schema.Type<typeof Params>

const isUrl = (s: string) => /^https?:\/\//i.test(s)

/** Expands `.paths` list files into their entries (relative ones joined to baseUrl). */
const expandLists = (entries: ReadonlyArray<string>, p: Params): Array<string> =>
  entries.flatMap((e) => {
    if (isUrl(e) || !/\.(paths|list)$/.test(e)) return [e]
    const file = resolveInput(e)
    return fs
      .readFileSync(file, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => (isUrl(l) || path.isAbsolute(l) || fs.existsSync(l) ? l : `${p.baseUrl.replace(/\/$/, "")}/${l}`))
  })

const fetchWithRetry = async (url: string, init: RequestInit, p: Params): Promise<Response> => {
  let last: unknown
  for (let attempt = 0; attempt <= p.retries; attempt++) {
    try {
      const r = await fetch(url, { ...init, signal: AbortSignal.timeout(p.timeoutMs) })
      if (r.status < 500 && r.status !== 429) return r
      last = new Error(`HTTP ${r.status}`)
    } catch (e) {
      last = e
    }
    await new Promise((res) => setTimeout(res, Math.min(4000, 200 * 2 ** attempt)))
  }
  throw last
}

/** A URL's fingerprint: its ETag or size and date; unreachable URLs get a one-off token so they retry next run. */
const urlFingerprint = async (url: string, p: Params): Promise<string> => {
  try {
    const r = await fetchWithRetry(url, { method: "HEAD" }, { ...p, retries: 0 })
    if (!r.ok) return `unavailable:${r.status}:${Date.now()}`
    return r.headers.get("etag") ?? `${r.headers.get("content-length") ?? "?"}:${r.headers.get("last-modified") ?? "?"}`
  } catch {
    return `unavailable:${Date.now()}`
  }
}

/** Peeks at the first bytes; gzip (any number of members) is decompressed with zlib. */
const gunzipIfNeeded = async (source: Readable): Promise<Readable> => {
  const iterator = source[Symbol.asyncIterator]()
  const first = await iterator.next()
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Uint8Array)
  const rest = Readable.from(
    (async function* () {
      if (head.length) yield head
      for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield Buffer.from(n.value as Uint8Array)
    })()
  )
  return head[0] === 0x1f && head[1] === 0x8b ? rest.pipe(createGunzip()) : rest
}

const stripUrn = (id: string) => id.replace(/^<|>$/g, "").replace(/^urn:uuid:/, "")

export const warc = Node.source({
  name: "owm/warc",
  version: 1,
  description: "WARC files → HTML response records, decoded (one shard per WARC file, or per ~shardBytes of a larger one).",
  params: Params,
  output: WebPage,
  units: (p) =>
    Effect.gen(function* () {
      const entries = expandLists(
        p.paths
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
        p
      )
      const local = entries.filter((e) => !isUrl(e))
      const urls = entries.filter(isUrl)
      const files = local.length ? yield* listFiles("owm/warc", local.join(","), cutWarc) : []
      const remote = yield* Effect.promise(() => Promise.all(urls.map(async (url) => ({ id: url, fingerprint: await urlFingerprint(url, p), url }))))
      return [...files, ...remote]
    }).pipe(Effect.mapError((e) => (e instanceof NodeRunError ? e : new NodeRunError({ node: "owm/warc", message: String(e), transient: false })))),
  worker: true,
  read: async function* (unit, p, ctx) {
    let source: Readable
    if (typeof unit.url === "string") {
      try {
        const r = await fetchWithRetry(unit.url, {}, p)
        if (!r.ok || !r.body) {
          ctx.drop("fetch-failed", { url: unit.url, error: `HTTP ${r.status}` })
          return
        }
        source = Readable.fromWeb(r.body as import("node:stream/web").ReadableStream<Uint8Array>)
      } catch (e) {
        ctx.drop("fetch-failed", { url: unit.url, error: (e as Error).name === "TimeoutError" ? "timeout" : (e as Error).message })
        return
      }
    } else {
      const range = rangeOf(unit)
      if (range.end === range.start) {
        ctx.drop("empty-file", { file: range.fileId })
        return
      }
      // a cut unit is whole gzip members (or whole records), so it parses like a file of its own
      source = readRange(range)
    }
    // Gzip is undone here rather than by the WARC parser, which ends silently at a truncated or
    // corrupt member; zlib reports it, so the loss is counted.
    // Complete records only: a record cut short is reported, never handed to the parser.
    const framing: Framing = { skipped: [] }
    const parser = new WARCParser(Readable.from(completeRecords(await gunzipIfNeeded(source), p.maxPageBytes + HTTP_HEADER_ROOM, framing)))
    try {
      for await (const record of parser) {
        if (record.warcType !== "response") {
          ctx.drop("not-response")
          continue
        }
        const url = record.warcTargetURI ?? ""
        const type = record.httpHeaders?.headers.get("content-type") ?? ""
        if (!/^(text\/html|application\/xhtml\+xml)/i.test(type.trim())) {
          ctx.drop("not-html", { url, type })
          continue
        }
        const status = Number(record.httpHeaders?.statusCode ?? 0)
        if (status < 200 || status >= 300) {
          ctx.drop("http-not-ok", { url, status })
          continue
        }
        const length = Number(record.warcHeader("Content-Length") ?? 0)
        if (length > p.maxPageBytes) {
          ctx.drop("too-large", { url, bytes: length })
          continue
        }
        const body = await record.readFully(true)
        if (body.length > p.maxPageBytes) {
          ctx.drop("too-large", { url, bytes: body.length })
          continue
        }
        const decoded = decodeHtml(body, type)
        if (!decoded.ok) {
          ctx.drop(decoded.reason, { url })
          continue
        }
        const recordId = stripUrn(record.warcHeader("WARC-Record-ID") ?? `${fileIdOf(unit)}#${url}`)
        yield { id: recordId, url, warc_record_id: recordId, warc_file: fileIdOf(unit), charset: decoded.charset, html: decoded.text }
      }
    } catch (e) {
      // A truncated file or a broken gzip member ends this file; the records before it are kept.
      framing.truncated ??= (e as Error).message.slice(0, 200)
    }
    for (const r of framing.skipped) ctx.drop(r.type === "response" ? "too-large" : "not-response", { url: r.url, bytes: r.bytes })
    if (framing.truncated) ctx.drop("truncated-warc", { file: unit.id, error: framing.truncated })
  },
})
