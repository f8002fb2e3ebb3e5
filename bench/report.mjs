// The report a run writes, with and without the query rows earlier reports kept: proof-pile-2's sample
// is run once into a fresh store, then `dag report` re-renders that run with the store's derived/
// folder emptied first (the baseline: every query runs in DuckDB) and as it is (every query answered
// from kept rows); last, a no-op `dag run` end to end. Times are medians of 5; `ms` is the page's own
// figure (build and render), `wall` the whole process.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export const main = async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-report-"))
  const store = path.join(work, "store")
  const env = { ...process.env, DAG_STORE: store, DAG_RUNS: path.join(work, "runs"), CI: "true" }
  const dag = (args) => {
    const t = process.hrtime.bigint()
    const r = spawnSync(process.execPath, ["bin/dag.cjs", ...args], { cwd: root, env, encoding: "utf8", maxBuffer: 1 << 26 })
    const wall = Number(process.hrtime.bigint() - t) / 1e6
    if (r.status !== 0) throw new Error(`dag ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
    return { wall, out: r.stdout }
  }
  console.log("running the proof-pile-2 sample once (about 40 s)…")
  dag(["run", "proof-pile-2"])
  const page = () => fs.readFileSync(path.join(work, "runs", fs.readdirSync(path.join(work, "runs")).filter((d) => /^\d/.test(d)).sort().at(-1), "report.html"), "utf8")
  const figure = (html) => {
    const m = /in (\d+) ms; of its (\d+) queries, (\d+) were answered/.exec(html)
    if (!m) throw new Error("the report's footer has no timing")
    return { ms: Number(m[1]), queries: Number(m[2]), cached: Number(m[3]) }
  }
  const render = (clear) => {
    if (clear) fs.rmSync(path.join(store, "derived"), { recursive: true, force: true })
    const { wall } = dag(["report", "--run", "latest"])
    return { wall, ...figure(page()) }
  }
  const cold = Array.from({ length: 5 }, () => render(true))
  const warm = Array.from({ length: 5 }, () => render(false))
  if (cold.some((c) => c.cached !== 0) || warm.some((w) => w.cached !== w.queries)) throw new Error("the cache was not as expected")
  const noop = Array.from({ length: 5 }, () => {
    const r = dag(["run", "proof-pile-2"])
    if (!/report /.test(r.out)) throw new Error("no report line")
    return { wall: r.wall, ...figure(page()) }
  })
  const row = (name, xs) => console.log(`${name.padEnd(34)} page ${median(xs.map((x) => x.ms))} ms · process ${Math.round(median(xs.map((x) => x.wall)))} ms`)
  row("report, every query in DuckDB", cold)
  row("report, kept rows", warm)
  row("no-op dag run (report included)", noop)
  fs.rmSync(work, { recursive: true, force: true })
  console.log(
    `BENCH report queries=${cold[0].queries} cold_ms=${median(cold.map((x) => x.ms))} warm_ms=${median(warm.map((x) => x.ms))} cold_wall_ms=${Math.round(median(cold.map((x) => x.wall)))} warm_wall_ms=${Math.round(median(warm.map((x) => x.wall)))} noop_run_wall_ms=${Math.round(median(noop.map((x) => x.wall)))}`
  )
}
