// Builds benchmark inputs from real pages and texts: WARC files of math pages (each copy with its
// own URL and a changed sentence, one gzip member per record as Common Crawl writes them) and JSON
// Lines corpora. Pages come from ../shared/data (html-pages, html-math) or, without it, from the
// embedded sample WARC. Everything is streamed to disk; nothing holds a whole corpus.
import * as fs from "node:fs"
import * as path from "node:path"
import { gzipSync, gunzipSync } from "node:zlib"
import { fileURLToPath } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const shared = path.resolve(root, "..", "shared", "data")

/** Real HTML pages: ../shared/data when present, else the sample WARC's HTML responses. */
export const realPages = () => {
  const files = ["html-pages", "html-math"].flatMap((d) => {
    const dir = path.join(shared, d)
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".html")).map((f) => path.join(dir, f)) : []
  })
  if (files.length) return { source: "../shared/data html-pages + html-math", pages: files.map((f) => fs.readFileSync(f, "utf8")) }
  const raw = gunzipSync(fs.readFileSync(path.join(root, "samples/owm/sample.warc.gz"))).toString("utf8")
  const pages = [...raw.matchAll(/Content-Type: text\/html[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*?)(?=\r\n\r\nWARC\/1\.)/g)].map((m) => m[1]).filter((p) => /math|\\\(|\$/.test(p))
  return { source: "samples/owm/sample.warc.gz", pages }
}

const record = (type, uri, body, i) => {
  const header = [
    "WARC/1.0",
    `WARC-Type: ${type}`,
    `WARC-Target-URI: ${uri}`,
    "WARC-Date: 2023-06-01T00:00:00Z",
    `WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, "0")}>`,
    "Content-Type: application/http; msgtype=response",
    `Content-Length: ${body.length}`,
  ].join("\r\n")
  return Buffer.concat([Buffer.from(header + "\r\n\r\n"), body, Buffer.from("\r\n\r\n")])
}

/** One copy of a page: its own URL and one sentence that differs, so near-dedup does not merge them all. */
const variant = (page, i) => page.replace(/<body([^>]*)>/i, `<body$1><p>Copy ${i} of this page, revision ${(i * 7919) % 100003}.</p>`)

/** Writes `count` pages into `files` WARC files under `dir`; returns their paths and total bytes. */
export const writeWarcs = (dir, count, files, pages) => {
  fs.mkdirSync(dir, { recursive: true })
  const paths = []
  let bytes = 0
  for (let f = 0; f < files; f++) {
    const file = path.join(dir, `part-${String(f).padStart(3, "0")}.warc.gz`)
    const fd = fs.openSync(file, "w")
    for (let i = f; i < count; i += files) {
      const html = Buffer.from(variant(pages[i % pages.length], i))
      const http = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${html.length}\r\n\r\n`), html])
      const member = gzipSync(record("response", `https://example.org/page/${i}`, http, i), { level: 1 })
      fs.writeSync(fd, member)
      bytes += member.length
    }
    fs.closeSync(fd)
    paths.push(file)
  }
  return { paths, bytes }
}
