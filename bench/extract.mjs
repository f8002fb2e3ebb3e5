// owm/extract throughput on real pages (../shared/data/html-pages and html-math, repeated to ≥ 2,000
// pages; the embedded sample's pages when ../shared is absent), on one core, next to a naive baseline
// measured in the same run: parse with the same HTML parser, then take the body's textContent.
import * as fs from "node:fs"
import * as path from "node:path"
import { at, loadTs, root } from "../scripts/lib/load-ts.mjs"

const loadPages = async (lib) => {
  const shared = path.resolve(root, "..", "shared", "data")
  const files = ["html-pages", "html-math"].flatMap((d) => {
    const dir = path.join(shared, d)
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".html")).map((f) => path.join(dir, f)) : []
  })
  if (files.length > 0) return { source: "../shared/data html-pages + html-math", pages: files.map((f) => fs.readFileSync(f, "utf8")) }
  return { source: "samples/owm (embedded sample)", pages: await lib.samplePages(path.join(root, "samples/owm/sample.warc.gz")) }
}

export const main = async () => {
  const lib = await loadTs(
    `export { extract } from ${at("nodes/owm/extract/extract.ts")}
export { owmConfig } from ${at("nodes/owm/extract/config.ts")}
export { parseDocument } from "htmlparser2"
export { textContent, findOne } from "domutils"
import { WARCParser } from "warcio"
import * as fs from "node:fs"
export const samplePages = async (file: string) => {
  const out: string[] = []
  for await (const r of new WARCParser(fs.createReadStream(file))) {
    if (r.warcType === "response" && /text\\/html/.test(r.httpHeaders?.headers.get("content-type") ?? "")) out.push(new TextDecoder().decode(await r.readFully(true)))
  }
  return out
}
`
  )
  const { source, pages } = await loadPages(lib)
  const reps = Math.ceil(2000 / pages.length)
  const corpus = Array.from({ length: reps }, () => pages).flat()
  const bytes = corpus.reduce((a, p) => a + p.length, 0)
  const config = lib.owmConfig()

  // warm-up (JIT), then timed runs
  for (const p of pages) lib.extract(p, config)
  let t = performance.now()
  let kept = 0
  for (const p of corpus) if (lib.extract(p, config).ok) kept++
  const ours = corpus.length / ((performance.now() - t) / 1000)

  for (const p of pages) lib.textContent(lib.parseDocument(p))
  t = performance.now()
  let chars = 0
  for (const p of corpus) {
    const doc = lib.parseDocument(p)
    const body = lib.findOne((e) => e.name === "body", doc.children, true)
    chars += lib.textContent(body ?? doc).length
  }
  const baseline = corpus.length / ((performance.now() - t) / 1000)
  console.log(`pages: ${corpus.length} (${pages.length} distinct from ${source}, ${(bytes / corpus.length / 1024).toFixed(0)} KB average), ${kept} extracted`)
  console.log(`owm/extract: ${ours.toFixed(0)} pages/s on one core; naive parse + textContent: ${baseline.toFixed(0)} pages/s (${chars > 0 ? "ok" : "empty"})`)
  console.log(`BENCH owm_extract pages_per_s=${ours.toFixed(1)} baseline_pages_per_s=${baseline.toFixed(1)}`)
}
