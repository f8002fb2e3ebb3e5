// Integrity check cost: `dag sql "select count(*), sum(length(text)) from docs"` over a store of
// at least 1 GB, with the check every read makes (fast digest of every shard the query names)
// and without it (DAG_UNCHECKED_READS=1, the baseline). The store is made by a real `dag run`
// (the dedup pipeline's JSON Lines source alone) over generated documents of letter-words, which
// compress about as poorly as real multilingual web text, so the store is large for its input.
// Each variant runs REPEAT times, alternating, from a warm page cache; medians are reported.
// Flags: --quick (a ~250 MB store), --keep (leave the store in place and print its path).
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "./lib-corpus.mjs"

const REPEAT = 7

const rng = (seed) => () => {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
  return seed / 2 ** 32
}

/** `bytes` of JSON Lines in `parts` files: documents of random lower-case words, written streaming. */
export const writeCorpus = (dir, bytes, parts) => {
  fs.mkdirSync(dir, { recursive: true })
  const r = rng(11)
  const letters = "etaoinshrdlcumwfgypbvkjxqz"
  const word = () => {
    const n = 2 + Math.floor(r() * 8)
    let w = ""
    // skewed letter choice: roughly English-like frequencies, so zstd finds some redundancy
    for (let i = 0; i < n; i++) w += letters[Math.floor(r() * r() * letters.length)]
    return w
  }
  const fds = Array.from({ length: parts }, (_, p) => fs.openSync(path.join(dir, `docs-${p}.jsonl`), "w"))
  let written = 0
  let i = 0
  while (written < bytes) {
    const text = Array.from({ length: 400 }, word).join(" ")
    const line = `${JSON.stringify({ id: `d${i}`, text })}\n`
    fs.writeSync(fds[i % parts], line)
    written += line.length
    i++
  }
  fds.forEach((fd) => fs.closeSync(fd))
  return { bytes: written, docs: i }
}

const dag = (args, env) => {
  const started = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [path.join(root, "bin/dag.cjs"), ...args], { env, encoding: "utf8", maxBuffer: 64 << 20 })
  const s = Number(process.hrtime.bigint() - started) / 1e9
  if (r.status !== 0) throw new Error(`dag ${args.join(" ")} exited ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
  return { s, out: r.stdout }
}

const duBytes = (dir) => {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size
  return total
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export const main = async (args) => {
  const quick = args.includes("--quick")
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-verify-"))
  const env = { ...process.env, DAG_STORE: path.join(base, "store"), DAG_RUNS: path.join(base, "runs"), CI: "true" }
  try {
    const target = (quick ? 400 : 2200) * 2 ** 20
    const { bytes, docs } = writeCorpus(path.join(base, "in"), target, 4)
    console.log(`corpus: ${docs} documents, ${(bytes / 2 ** 20).toFixed(0)} MB of JSON Lines`)
    const made = dag(["run", "dedup", "--select", "docs", "--param", `docs.paths=${base}/in/docs-*.jsonl`, "--json"], env)
    fs.rmSync(path.join(base, "in"), { recursive: true, force: true })
    const storeBytes = duBytes(path.join(base, "store", "objects"))
    console.log(`store: ${(storeBytes / 2 ** 30).toFixed(2)} GiB of objects, made in ${made.s.toFixed(1)} s`)
    if (!quick && storeBytes < 2 ** 30) throw new Error("the store came out under 1 GiB: raise the corpus size in bench/verify.mjs")
    const query = "select count(*) as docs, sum(length(text)) as chars from docs"
    const checked = []
    const unchecked = []
    let answer = ""
    // one unmeasured read of each kind first: page cache warm for both
    dag(["sql", query, "--format", "csv"], env)
    dag(["sql", query, "--format", "csv"], { ...env, DAG_UNCHECKED_READS: "1" })
    for (let i = 0; i < REPEAT; i++) {
      const a = dag(["sql", query, "--format", "csv"], env)
      const b = dag(["sql", query, "--format", "csv"], { ...env, DAG_UNCHECKED_READS: "1" })
      if (a.out !== b.out) throw new Error(`checked and unchecked reads disagree:\n${a.out}\n${b.out}`)
      answer = a.out.trim().split("\n")[1]
      checked.push(a.s)
      unchecked.push(b.s)
    }
    const sql = median(checked)
    const base0 = median(unchecked)
    console.log(`answer (docs,chars): ${answer}`)
    console.log(`checked:   ${checked.map((x) => x.toFixed(2)).join(" ")} s`)
    console.log(`unchecked: ${unchecked.map((x) => x.toFixed(2)).join(" ")} s`)
    if (args.includes("--keep")) console.log(`store kept in ${base}`)
    console.log(
      `BENCH verify store_gb=${(storeBytes / 2 ** 30).toFixed(2)} sql_s=${sql.toFixed(2)} sql_unchecked_s=${base0.toFixed(2)} overhead_pct=${(((sql - base0) / base0) * 100).toFixed(1)}`
    )
  } finally {
    if (!args.includes("--keep")) fs.rmSync(base, { recursive: true, force: true })
  }
}
