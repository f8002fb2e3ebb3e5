// dedup/minhash end to end — `dag run dedup`: JSONL → signatures (worker threads, WebAssembly SIMD)
// → banding, Jaccard check and components in DuckDB — on 20,000 synthetic documents of about 300 words,
// 10 % of them planted near-duplicates; next to a DuckDB-SQL-only baseline measured in the same run
// (signatures computed in SQL too, same banding, candidate pairs). docs_per_s is the dedup itself
// (the signature and MinHash nodes, from the run journal, as the SQL baseline also starts from
// loaded documents); process_docs_per_s is the whole `dag run` process, ingestion and report included.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "../scripts/lib/load-ts.mjs"

const { DuckDBInstance } = await import(path.join(root, "node_modules/@duckdb/node-api/lib/index.js"))

const runDag = (args, env) =>
  new Promise((resolve, reject) => {
    let peak = 0
    const child = spawn(process.execPath, [path.join(root, "bin/dag.cjs"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    // peak RSS of the process tree (the CLI and its worker threads share one process)
    const timer = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0)
        peak = Math.max(peak, kb / 1024)
      } catch {}
    }, 50)
    child.on("exit", (code) => {
      clearInterval(timer)
      code === 0 ? resolve({ out, peak }) : reject(new Error(out))
    })
  })

export const main = async (args) => {
  const n = Number(args.find((a) => a.startsWith("--docs="))?.slice(7) ?? 20_000)
  const rng = (seed) => () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
    return seed / 2 ** 32
  }
  const r = rng(42)
  const vocab = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}`)
  const doc = () => Array.from({ length: 300 }, () => vocab[Math.floor(r() * vocab.length)]).join(" ")
  const planted = Math.floor(n / 10)
  const docs = Array.from({ length: n - planted }, (_, i) => ({ id: `o${i}`, text: doc() }))
  for (let i = 0; i < planted; i++) docs.push({ id: `p${i}`, text: docs[i].text.split(" ").map((w) => (r() < 0.01 ? vocab[Math.floor(r() * vocab.length)] : w)).join(" ") })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-minhash-"))
  const parts = 8
  for (let p = 0; p < parts; p++) fs.writeFileSync(path.join(dir, `docs-${p}.jsonl`), docs.filter((_, i) => i % parts === p).map((d) => JSON.stringify(d)).join("\n"))
  const env = { ...process.env, DAG_STORE: path.join(dir, "store"), DAG_RUNS: path.join(dir, "runs"), CI: "true" }
  const t = performance.now()
  const ours = await runDag(["run", "dedup", "--select", "dedup/minhash", "--param", `docs.paths=${dir}/docs-*.jsonl`, "--json"], env)
  const ms = performance.now() - t
  // the dedup itself (signatures + banding + components), from the run's journal: the nodes after ingestion
  const record = JSON.parse(fs.readFileSync(path.join(dir, "runs", fs.readdirSync(path.join(dir, "runs"))[0], "run.json"), "utf8"))
  const nodeMs = (name) => record.nodes.find((n) => n.node === name || n.name === name)?.ms ?? NaN
  const dedupMs = nodeMs("dedup/minhash-signatures") + nodeMs("dedup/minhash")
  const clusters = JSON.parse((await runDag(["sql", "select id, representative from dedup_minhash__clusters", "--format", "json"], env)).out)
  const rep = new Map(clusters.map((c) => [c.id, c.representative]))
  let found = 0
  for (let i = 0; i < planted; i++) if (rep.get(`p${i}`) !== undefined && rep.get(`p${i}`) === rep.get(`o${i}`)) found++

  const conn = await (await DuckDBInstance.create(":memory:")).connect()
  await conn.run(`CREATE TABLE docs AS SELECT row_number() OVER () AS doc, id, text FROM read_json('${dir}/docs-*.jsonl', format = 'newline_delimited')`)
  const t2 = performance.now()
  await conn.run("CREATE TABLE sh AS SELECT doc, hash(w[i], w[i+1], w[i+2], w[i+3], w[i+4]) AS h FROM (SELECT doc, string_split(lower(text), ' ') AS w FROM docs) d, range(1, len(w) - 3) r(i)")
  await conn.run("CREATE TABLE sig AS SELECT doc, k, min(hash(h, k)) AS v FROM sh, range(128) r(k) GROUP BY doc, k")
  await conn.run("CREATE TABLE bands AS SELECT doc, k // 8 AS band, hash(list(v ORDER BY k)) AS bh FROM sig GROUP BY doc, k // 8")
  await conn.run("CREATE TABLE cand AS SELECT DISTINCT x.doc a, y.doc b FROM bands x JOIN bands y ON x.band = y.band AND x.bh = y.bh AND x.doc < y.doc")
  const sqlMs = performance.now() - t2
  fs.rmSync(dir, { recursive: true, force: true })
  const dps = n / (dedupMs / 1000)
  const processDps = n / (ms / 1000)
  const sqlDps = n / (sqlMs / 1000)
  console.log(`documents: ${n} in ${parts} JSONL files (${planted} planted near-duplicates, ~1 % of words edited)`)
  console.log(`dag run dedup: ${(ms / 1000).toFixed(2)} s as a whole process (start-up, JSONL ingestion, signatures on worker threads, DuckDB banding and components, report); recall ${(found / planted).toFixed(3)}; peak RSS ${ours.peak.toFixed(0)} MB`)
  console.log(`of which the dedup itself (dedup/minhash-signatures + dedup/minhash): ${(dedupMs / 1000).toFixed(2)} s`)
  console.log(`DuckDB SQL only (signatures + bands + candidates, from loaded documents): ${(sqlMs / 1000).toFixed(2)} s`)
  console.log(`BENCH minhash docs_per_s=${dps.toFixed(0)} process_docs_per_s=${processDps.toFixed(0)} sql_only_docs_per_s=${sqlDps.toFixed(0)} recall=${(found / planted).toFixed(3)} peak_rss_mb=${ours.peak.toFixed(0)}`)
}
