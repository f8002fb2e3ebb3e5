// Corpus scale: throughput and peak memory of real `dag run` processes at two input sizes (×4 apart).
//   owm:   real math pages (../shared/data html-pages + html-math, else the sample's pages) copied into
//          ONE gzip WARC file, each copy with its own URL and sentence → `--select owm/filter`.
//   dedup: JSON Lines documents of words drawn from real MATH/GSM8k text, 10 % planted near-duplicates
//          → `dag run dedup` (MinHash + SimHash + exact).
//   pack:  arXiv-style JSON Lines of the same kind of text (75 MB and 300 MB) → `--select tokens/pack`
//          (decontaminate, tokenize, mix, pack at seq_length 4,096; arXiv alone in the mixture).
// Peak RSS and CPU come from GNU time (/usr/bin/time -v) around each process. The baseline is the
// small input measured in the same run: bounded memory means the large figures stay near the small.
// Flags: --quick (¼ sizes), --only=owm,dedup,pack.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root, realPages, shared, writeWarcs } from "./lib-corpus.mjs"

const timeBin = "/usr/bin/time"

/** Runs `dag ARGS` under GNU time; returns wall seconds, peak RSS (MB) and CPU %. */
const measure = (label, args, env) => {
  const r = spawnSync(timeBin, ["-v", process.execPath, path.join(root, "bin/dag.cjs"), ...args], { env, encoding: "utf8", maxBuffer: 64 << 20 })
  const field = (name) => new RegExp(`${name}:\\s*([^\\n]+)`).exec(r.stderr)?.[1]?.trim() ?? ""
  if (r.status !== 0) throw new Error(`${label}: dag ${args.join(" ")} exited ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`)
  const [m, s] = field("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)").split(":").slice(-2).map(Number)
  const wall = m * 60 + s
  const rssMb = Number(field("Maximum resident set size \\(kbytes\\)")) / 1024
  const cpuPct = Number(field("Percent of CPU this job got").replace("%", ""))
  console.log(`${label}: ${wall.toFixed(1)} s, peak RSS ${rssMb.toFixed(0)} MB, CPU ${cpuPct} %`)
  return { wall, rssMb, cpuPct }
}

const rng = (seed) => () => {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
  return seed / 2 ** 32
}

/** Words of real math text, to draw documents from (no real problem survives, so decontamination keeps them). */
const mathWords = () => {
  const files = ["MATH_test.jsonl", "gsm8k_test.jsonl"].map((f) => path.join(shared, "benchmarks", f)).filter((f) => fs.existsSync(f))
  const text = files.length
    ? files.map((f) => fs.readFileSync(f, "utf8")).join("\n")
    : fs.readdirSync(path.join(root, "samples/eval")).filter((f) => f.endsWith(".jsonl")).map((f) => fs.readFileSync(path.join(root, "samples/eval", f), "utf8")).join("\n")
  return text.split(/\s+/).filter((w) => w.length > 0 && w.length < 20 && !/["{}]/.test(w))
}

/** Writes `count` JSON Lines documents of ~`words` words into `parts` files, streaming. */
export const writeDocs = (dir, count, parts, words, shape) => {
  fs.mkdirSync(dir, { recursive: true })
  const vocab = mathWords()
  const r = rng(7)
  const fds = Array.from({ length: parts }, (_, p) => fs.openSync(path.join(dir, `docs-${p}.jsonl`), "w"))
  let bytes = 0
  let last = []
  for (let i = 0; i < count; i++) {
    // every tenth document is a near-copy of the one before it (1 % of words changed)
    const body = i % 10 === 9 ? last.map((w) => (r() < 0.01 ? vocab[Math.floor(r() * vocab.length)] : w)) : Array.from({ length: words }, () => vocab[Math.floor(r() * vocab.length)])
    last = body
    const line = JSON.stringify(shape(i, body.join(" "))) + "\n"
    fs.writeSync(fds[i % parts], line)
    bytes += line.length
  }
  fds.forEach((fd) => fs.closeSync(fd))
  return { bytes }
}

const freshEnv = (dir, extra = {}) => ({ ...process.env, DAG_STORE: path.join(dir, "store"), DAG_RUNS: path.join(dir, "runs"), CI: "true", ...extra })

const owm = (base, pages, { source, pages: html }) => {
  const dir = path.join(base, `owm-${pages}`)
  const { paths, bytes } = writeWarcs(path.join(dir, "in"), pages, 1, html)
  console.log(`owm: ${pages} pages from ${source} in one WARC file of ${(bytes / 2 ** 20).toFixed(0)} MB`)
  const r = measure(`owm ${pages} pages`, ["run", "proof-pile-2", "--select", "owm/filter", "--param", `owm/warc.paths=${paths[0]}`, "--json"], freshEnv(dir))
  return { ...r, pagesPerS: pages / r.wall }
}

const dedup = (base, docs) => {
  const dir = path.join(base, `dedup-${docs}`)
  const { bytes } = writeDocs(path.join(dir, "in"), docs, 4, 300, (i, text) => ({ id: `d${i}`, text }))
  console.log(`dedup: ${docs} documents, ${(bytes / 2 ** 20).toFixed(0)} MB of JSON Lines`)
  const r = measure(`dedup ${docs} docs`, ["run", "dedup", "--param", `docs.paths=${dir}/in/docs-*.jsonl`, "--json"], freshEnv(dir))
  return { ...r, docsPerS: docs / r.wall }
}

const pack = (base, papers) => {
  const dir = path.join(base, `pack-${papers}`)
  const { bytes } = writeDocs(path.join(dir, "in"), papers, 2, 2000, (i, text) => ({ text, meta: { arxiv_id: `bench.${i}` } }))
  console.log(`pack: ${papers} papers, ${(bytes / 2 ** 20).toFixed(0)} MB of JSON Lines`)
  // arXiv alone in the mixture: the embedded OpenWebMath and AlgebraicStack samples are a few
  // documents, which the default weights would repeat thousands of times
  const r = measure(`pack ${papers} papers`, ["run", "proof-pile-2", "--select", "tokens/pack", "--param", `arxiv/load.paths=${dir}/in/docs-*.jsonl`, "--param", "tokens/mix.weights=arxiv=1", "--param", "tokens/pack.seqLength=4096", "--json"], freshEnv(dir))
  return { ...r, mbPerS: bytes / 2 ** 20 / r.wall }
}

export const main = async (args) => {
  if (!fs.existsSync(timeBin)) throw new Error("bench scale needs GNU time (/usr/bin/time): apt-get install time")
  const quick = args.includes("--quick")
  const only = (args.find((a) => a.startsWith("--only="))?.slice(7) ?? "owm,dedup,pack").split(",")
  const k = quick ? 0.25 : 1
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-scale-"))
  const out = []
  try {
    if (only.includes("owm")) {
      const pages = realPages()
      const small = owm(base, Math.round(2000 * k), pages)
      const large = owm(base, Math.round(8000 * k), pages)
      out.push(`owm_pages_per_s_small=${small.pagesPerS.toFixed(1)}`, `owm_pages_per_s_large=${large.pagesPerS.toFixed(1)}`)
      out.push(`owm_rss_mb_small=${small.rssMb.toFixed(0)}`, `owm_rss_mb_large=${large.rssMb.toFixed(0)}`, `owm_cpu_pct_one_file=${large.cpuPct}`)
    }
    if (only.includes("dedup")) {
      const small = dedup(base, Math.round(50_000 * k))
      const large = dedup(base, Math.round(200_000 * k))
      out.push(`dedup_docs_per_s_small=${small.docsPerS.toFixed(0)}`, `dedup_docs_per_s_large=${large.docsPerS.toFixed(0)}`)
      out.push(`dedup_rss_mb_small=${small.rssMb.toFixed(0)}`, `dedup_rss_mb_large=${large.rssMb.toFixed(0)}`)
    }
    if (only.includes("pack")) {
      const small = pack(base, Math.round(7500 * k))
      const large = pack(base, Math.round(30_000 * k))
      out.push(`pack_mb_per_s_small=${small.mbPerS.toFixed(2)}`, `pack_mb_per_s_large=${large.mbPerS.toFixed(2)}`)
      out.push(`pack_rss_mb_small=${small.rssMb.toFixed(0)}`, `pack_rss_mb_large=${large.rssMb.toFixed(0)}`)
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true })
  }
  console.log(`BENCH scale ${out.join(" ")}`)
}
