// `dag publish --dry-run` at two corpus sizes, 10× apart: the Hub layout written from a real run's
// store (one sort by id through DuckDB, bounded files), its throughput and the peak RSS of the
// process (`/usr/bin/time -v`), against `dag export --format parquet` of the same dataset (a copy
// of the shards, the cheapest way out of the store) as the baseline. Memory must not grow with
// the input. The corpus: JSON Lines of letter-word documents (bench/verify.mjs's generator), read
// by the dedup pipeline's `docs` source. Flags: --quick (20 MB and 200 MB instead of 100 MB and 1 GB).
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "./lib-corpus.mjs"
import { writeCorpus } from "./verify.mjs"

/** Runs the CLI under /usr/bin/time -v: seconds and peak RSS (MB). */
const timed = (args, env) => {
  const started = process.hrtime.bigint()
  const r = spawnSync("/usr/bin/time", ["-v", process.execPath, path.join(root, "bin/dag.cjs"), ...args], { env, encoding: "utf8", maxBuffer: 64 << 20 })
  const s = Number(process.hrtime.bigint() - started) / 1e9
  if (r.status !== 0) throw new Error(`dag ${args.join(" ")} exited ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024
  return { s, rss }
}

const duBytes = (dir) => {
  let total = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size
  return total
}

const measure = (base, mb) => {
  const dir = path.join(base, `${mb}mb`)
  const env = { ...process.env, DAG_STORE: path.join(dir, "store"), DAG_RUNS: path.join(dir, "runs"), CI: "true" }
  const { docs } = writeCorpus(path.join(dir, "in"), mb * 2 ** 20, 8)
  timed(["run", "dedup", "--select", "docs", "--param", `docs.paths=${dir}/in/docs-*.jsonl`], env)
  fs.rmSync(path.join(dir, "in"), { recursive: true, force: true })
  const exported = timed(["export", "docs", "--format", "parquet", "--out", path.join(dir, "export")], env)
  const published = timed(["publish", "corpus", "--dry-run", "--out", path.join(dir, "publish"), "--max-file-mb", "20"], env)
  const bytes = duBytes(path.join(dir, "publish", "data"))
  const files = fs.readdirSync(path.join(dir, "publish", "data", "corpus")).length
  console.log(`${mb} MB of JSON Lines, ${docs} documents: publish ${published.s.toFixed(1)} s (${files} files, ${(bytes / 2 ** 20).toFixed(0)} MB), peak RSS ${published.rss.toFixed(0)} MB; export ${exported.s.toFixed(1)} s, peak RSS ${exported.rss.toFixed(0)} MB`)
  fs.rmSync(dir, { recursive: true, force: true })
  return { mb, docs, published, exported, bytes }
}

export const main = async (args) => {
  const quick = args.includes("--quick")
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-publish-"))
  try {
    const [small, large] = (quick ? [20, 200] : [100, 1000]).map((mb) => measure(base, mb))
    const mbps = (large.bytes / 2 ** 20 / large.published.s).toFixed(1)
    const baseline = (large.bytes / 2 ** 20 / large.exported.s).toFixed(1)
    console.log(
      `BENCH publish mb_per_s=${mbps} export_mb_per_s=${baseline} rss_mb_${small.mb}=${small.published.rss.toFixed(0)} rss_mb_${large.mb}=${large.published.rss.toFixed(0)} export_rss_mb_${large.mb}=${large.exported.rss.toFixed(0)}`
    )
  } finally {
    fs.rmSync(base, { recursive: true, force: true })
  }
}
