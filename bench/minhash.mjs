// dedup/minhash end to end (signatures in TypeScript + banding, Jaccard check and components in DuckDB)
// on 20,000 synthetic documents of about 300 words, 10 % of them planted near-duplicates, next to a
// DuckDB-SQL-only baseline measured in the same run (signatures computed in SQL too, same banding).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { at, loadTs } from "../scripts/lib/load-ts.mjs"

export const main = async (args) => {
  const n = Number(args.find((a) => a.startsWith("--docs="))?.slice(7) ?? 20_000)
  const lib = await loadTs(`
import { Effect, Layer, Schema } from "effect"
export { Effect }
import * as Node from ${at("engine/node.ts")}
import * as Pipeline from ${at("engine/pipeline.ts")}
import { Journal, RunJournal, emptyNodeLog, newRecord, newRunId } from ${at("engine/journal.ts")}
import { resolveParams } from ${at("engine/params.ts")}
import { ShardExecutor } from ${at("engine/exec/pool.ts")}
import { ProgressBar } from ${at("engine/exec/progress.ts")}
import { runPipeline } from ${at("engine/exec/runner.ts")}
import { ArtifactStore, Store } from ${at("engine/store/store.ts")}
import { makeMinhash } from ${at("nodes/dedup/minhash.ts")}
import { DuckDBInstance } from "@duckdb/node-api"
const Doc = Schema.Struct({ id: Schema.String, text: Schema.String })
export const run = async (docs: Array<{ id: string; text: string }>, dir: string) => {
  const src = Node.source({ name: "b/docs", version: 1, output: Doc, units: () => Effect.succeed([{ id: "all", fingerprint: String(docs.length) }]), read: function* () { yield* docs } })
  const dedup = makeMinhash("b/minhash", Doc)
  const p = Pipeline.make("bench", (b) => ({ kept: b.add(dedup, { docs: b.add(src) }).kept }))
  const params = (resolveParams(p, [], []) as any).right
  const record = newRecord({ run: newRunId(), pipeline: "bench", profile: "bench", dryRun: false, argv: [], overrides: [], nodes: p.nodes.map((pn) => emptyNodeLog(pn.node.name, pn.node.kind, {})) })
  const store = new Store(dir + "/store"); store.init()
  const layer = Layer.mergeAll(Layer.succeed(ArtifactStore, store), Layer.succeed(RunJournal, new Journal(dir + "/runs", record)), ProgressBar.silent, ShardExecutor.inline(1))
  const t = performance.now()
  await Effect.runPromise(runPipeline({ pipeline: p, params, select: [], force: [], dryRun: false, verify: false, concurrency: 2, retries: 0 }, record.run).pipe(Effect.provide(layer)))
  const ms = performance.now() - t
  const node = record.nodes.find((x) => x.node === "b/minhash")!
  const m = store.getArtifact(node.outputs.clusters!) as any
  const conn = await (await DuckDBInstance.create(":memory:")).connect()
  const files = m.shards.map((s: any) => "'" + store.objectPath(s.hash, ".parquet") + "'").join(",")
  const clusters = files ? (await conn.runAndReadAll("SELECT id, representative FROM read_parquet([" + files + "])")).getRowObjectsJS() : []
  return { ms, clusters }
}
export const sqlOnly = async (docs: Array<{ id: string; text: string }>, dir: string) => {
  const conn = await (await DuckDBInstance.create(":memory:")).connect()
  fs.writeFileSync(dir + "/docs.jsonl", docs.map((d) => JSON.stringify(d)).join("\\n"))
  const t = performance.now()
  await conn.run("CREATE TABLE docs AS SELECT row_number() OVER () AS doc, id, text FROM read_json('" + dir + "/docs.jsonl', format = 'newline_delimited')")
  await conn.run("CREATE TABLE sh AS SELECT doc, hash(w[i], w[i+1], w[i+2], w[i+3], w[i+4]) AS h FROM (SELECT doc, string_split(lower(text), ' ') AS w FROM docs) d, range(1, len(w) - 3) r(i)")
  await conn.run("CREATE TABLE sig AS SELECT doc, k, min(hash(h, k)) AS v FROM sh, range(128) r(k) GROUP BY doc, k")
  await conn.run("CREATE TABLE bands AS SELECT doc, k // 8 AS band, hash(list(v ORDER BY k)) AS bh FROM sig GROUP BY doc, k // 8")
  await conn.run("CREATE TABLE cand AS SELECT DISTINCT x.doc a, y.doc b FROM bands x JOIN bands y ON x.band = y.band AND x.bh = y.bh AND x.doc < y.doc")
  const pairs = (await conn.runAndReadAll("SELECT count(*)::INT AS n FROM cand")).getRowObjectsJS()[0]!.n
  return { ms: performance.now() - t, pairs }
}
import * as fs from "node:fs"
`)
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
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const ours = await lib.run(docs, dir)
  clearInterval(timer)
  const rep = new Map(ours.clusters.map((c) => [c.id, c.representative]))
  let found = 0
  for (let i = 0; i < planted; i++) if (rep.get(`p${i}`) !== undefined && rep.get(`p${i}`) === rep.get(`o${i}`)) found++
  const base = await lib.sqlOnly(docs, dir)
  fs.rmSync(dir, { recursive: true, force: true })
  const dps = n / (ours.ms / 1000)
  const sqlDps = n / (base.ms / 1000)
  console.log(`documents: ${n} (${planted} planted near-duplicates, ~1 % of words edited)`)
  console.log(`dedup/minhash: ${(ours.ms / 1000).toFixed(2)} s end to end; recall ${(found / planted).toFixed(3)}; peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`)
  console.log(`DuckDB SQL only (signatures + bands + candidates): ${(base.ms / 1000).toFixed(2)} s (${base.pairs} candidate pairs)`)
  console.log(`BENCH minhash docs_per_s=${dps.toFixed(0)} sql_only_docs_per_s=${sqlDps.toFixed(0)} recall=${(found / planted).toFixed(3)} peak_rss_mb=${(peak / 2 ** 20).toFixed(0)}`)
}
