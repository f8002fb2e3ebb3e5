// Trains the default MathScore model (nodes/owm/data/mathscore-model.json).
// Positive examples: paragraphs of the real math pages in ../shared/data/html-pages and html-math and the
// project's own math prose (samples/demo). Negative examples: lines of the real Common Crawl pages in
// ../shared/data/warc (no math), the non-math pages of the embedded sample, and English prose the team
// wrote (nodes/owm/mathscore/negatives.txt). Every fifth example is held
// out; the held-out accuracy is printed and stored with the weights.
//   node scripts/train-mathscore.mjs
import * as fs from "node:fs"
import * as path from "node:path"
import { at, loadTs, root } from "./lib/load-ts.mjs"

const shared = path.resolve(root, "..", "shared", "data")
if (!fs.existsSync(shared)) {
  console.error(`train-mathscore: ${shared} is missing; the shipped model stays as it is`)
  process.exit(2)
}
const lib = await loadTs(
  `export { extract } from ${at("nodes/owm/extract/extract.ts")}
export { owmConfig } from ${at("nodes/owm/extract/config.ts")}
export { decodeHtml } from ${at("nodes/owm/decode.ts")}
export { train, predict } from ${at("nodes/owm/mathscore/model.ts")}
import { WARCParser } from "warcio"
import * as fs from "node:fs"
export const warcPages = async (file: string) => {
  const out: Array<{ url: string; bytes: Uint8Array; type: string }> = []
  for await (const r of new WARCParser(fs.createReadStream(file))) {
    if (r.warcType !== "response") continue
    const type = r.httpHeaders?.headers.get("content-type") ?? ""
    if (!/html/.test(type)) continue
    out.push({ url: r.warcTargetURI ?? "", bytes: await r.readFully(true), type })
  }
  return out
}
`
)
const config = lib.owmConfig()
const paragraphs = (text) => text.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length >= 40 && !p.startsWith("#"))
const extracted = (html) => {
  const r = lib.extract(html, config)
  return r.ok ? paragraphs(r.text) : []
}

const positive = []
for (const dir of ["html-pages", "html-math"]) {
  for (const f of fs.readdirSync(path.join(shared, dir)).filter((f) => f.endsWith(".html")).sort()) positive.push(...extracted(fs.readFileSync(path.join(shared, dir, f), "utf8")))
}
for (const f of fs.readdirSync(path.join(root, "samples/demo")).sort()) positive.push(...paragraphs(fs.readFileSync(path.join(root, "samples/demo", f), "utf8")))
const negative = []
for (const f of fs.readdirSync(path.join(shared, "warc")).sort()) {
  for (const page of await lib.warcPages(path.join(shared, "warc", f))) {
    const d = lib.decodeHtml(page.bytes, page.type)
    if (!d.ok) continue
    // every line of visible text, not only what extraction keeps: menus and footers are negatives too
    const visible = d.text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, "\n").replace(/&[a-z]+;/g, " ")
    negative.push(...visible.split("\n").map((l) => l.replace(/\s+/g, " ").trim()).filter((l) => l.length >= 40))
  }
}
for (const page of await lib.warcPages(path.join(root, "samples/owm/sample.warc.gz"))) {
  if (!/food|news/.test(page.url)) continue
  const d = lib.decodeHtml(page.bytes, page.type)
  if (d.ok) negative.push(...extracted(d.text))
}
// English prose written by the team (nodes/owm/mathscore/negatives.txt): without it, the Common Crawl
// pages (mostly not English) would teach "English means math".
negative.push(...fs.readFileSync(path.join(root, "nodes/owm/mathscore/negatives.txt"), "utf8").split("\n").filter((l) => l.trim().length > 0))
const examples = [...positive.map((text) => ({ text, label: 1 })), ...negative.map((text) => ({ text, label: 0 }))]
// deterministic interleaving so SGD sees both classes throughout
examples.sort((a, b) => (hash(a.text) < hash(b.text) ? -1 : 1))
function hash(s) {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0
  return h
}
const held = examples.filter((_, i) => i % 5 === 4)
const fit = examples.filter((_, i) => i % 5 !== 4)
const evaluate = (model, set) => {
  let right = 0
  for (const e of set) if ((lib.predict(model, e.text) >= 0.5 ? 1 : 0) === e.label) right++
  return set.length ? right / set.length : NaN
}
const trial = lib.train(fit)
const heldOut = evaluate(trial, held)
const model = lib.train(examples) // the shipped model sees every example
const training = {
  trainedBy: "scripts/train-mathscore.mjs",
  positives: positive.length,
  negatives: negative.length,
  heldOutExamples: held.length,
  heldOutAccuracy: Number(heldOut.toFixed(4)),
  trainingAccuracy: Number(evaluate(model, examples).toFixed(4)),
}
fs.writeFileSync(path.join(root, "nodes/owm/data/mathscore-model.json"), JSON.stringify({ ...model, training }))
console.log(`mathscore: ${positive.length} positive and ${negative.length} negative paragraphs; held-out accuracy ${(heldOut * 100).toFixed(1)}% on ${held.length}; ${Object.keys(model.weights).length} non-zero weights`)
