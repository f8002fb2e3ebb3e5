// Orchestration overhead: a 1,000-node DAG (10 layers × 100, each node reading two nodes of the layer
// above, tiny outputs), timed as whole processes — cold (empty store) and no-op (everything cached) —
// side by side with Snakemake on a Snakefile with the same 1,000 jobs.
//   --quick   time Snakemake's cold run on a 100-job slice (10 × 10) and scale it by 10
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const LAYERS = 10
const WIDTH = 100

const SNAKEFILE = `W = int(config.get("width", ${WIDTH}))
L = int(config.get("layers", ${LAYERS}))

rule all:
    input: expand("l{last}/n{i}.txt", last=L - 1, i=range(W))

rule seed:
    output: "l0/n{i}.txt"
    shell: "echo {wildcards.i} > {output}"

def parents(w):
    layer, i = int(w.layer), int(w.i)
    return [f"l{layer - 1}/n{i}.txt", f"l{layer - 1}/n{(i + 1) % W}.txt"]

rule combine:
    input: parents
    output: "l{layer,[1-9][0-9]*}/n{i}.txt"
    shell: "cat {input} | awk '{{s = s * 31 + $1}} END {{print s % 1000003}}' > {output}"
`

const timed = (cmd, args, options) => {
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...options })
  const s = Number(process.hrtime.bigint() - t) / 1e9
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return { s, out: r.stdout + r.stderr }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x) => (x === undefined ? "NA" : x.toFixed(3))

export const main = async (args) => {
  const quick = args.includes("--quick")
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-orch-"))
  const env = { ...process.env, DAG_STORE: path.join(work, "store"), DAG_RUNS: path.join(work, "runs"), CI: "true" }
  const dag = ["bin/dag.cjs", "run", "synthetic"]
  timed(process.execPath, ["bin/dag.cjs", "--help"], { cwd: root, env }) // builds dist/ and the code cache if needed

  const cold = timed(process.execPath, dag, { cwd: root, env })
  if (!/1000 computed/.test(cold.out)) throw new Error(`cold run did not compute 1000 nodes:\n${cold.out}`)
  console.log(`mathdag cold: ${fmt(cold.s)} s`)
  const noops = []
  for (let i = 0; i < 5; i++) {
    const r = timed(process.execPath, dag, { cwd: root, env })
    if (!/1000 cached/.test(r.out)) throw new Error(`no-op run recomputed something:\n${r.out}`)
    noops.push(r.s)
  }
  console.log(`mathdag no-op: ${noops.map(fmt).join(" ")} s (median ${fmt(median(noops))})`)

  let smCold
  let smNoop
  const sm = spawnSync("snakemake", ["--version"], { encoding: "utf8" })
  if (sm.status !== 0) {
    console.log("snakemake not found (Debian package `snakemake`); its figures are NA")
  } else {
    const dir = path.join(work, "snakemake")
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "Snakefile"), SNAKEFILE)
    if (quick) {
      const slice = timed("snakemake", ["--cores", "2", "-q", "--config", "width=10", `layers=${LAYERS}`], { cwd: dir })
      smCold = slice.s * ((LAYERS * WIDTH) / (LAYERS * 10))
      console.log(`snakemake cold: ${fmt(slice.s)} s for 100 jobs, scaled ×10 → ${fmt(smCold)} s`)
      fs.rmSync(path.join(dir, ".snakemake"), { recursive: true, force: true })
      for (let l = 0; l < LAYERS; l++) fs.rmSync(path.join(dir, `l${l}`), { recursive: true, force: true })
      // The no-op needs the full DAG's outputs: write them layer by layer with increasing mtimes.
      const t0 = Date.now() / 1000 - 3600
      for (let l = 0; l < LAYERS; l++) {
        fs.mkdirSync(path.join(dir, `l${l}`))
        for (let i = 0; i < WIDTH; i++) {
          const f = path.join(dir, `l${l}`, `n${i}.txt`)
          fs.writeFileSync(f, `${i}\n`)
          fs.utimesSync(f, t0 + l, t0 + l)
        }
      }
    } else {
      smCold = timed("snakemake", ["--cores", "2", "-q"], { cwd: dir }).s
      console.log(`snakemake cold: ${fmt(smCold)} s`)
    }
    const smNoops = []
    for (let i = 0; i < 3; i++) {
      const r = timed("snakemake", ["--cores", "2", "-q"], { cwd: dir })
      if (!/Nothing to be done/.test(r.out)) throw new Error(`snakemake no-op ran jobs:\n${r.out}`)
      smNoops.push(r.s)
    }
    smNoop = median(smNoops)
    console.log(`snakemake no-op: ${smNoops.map(fmt).join(" ")} s (median ${fmt(smNoop)})`)
    console.log(`ratios: cold ${smCold ? (smCold / cold.s).toFixed(1) : "NA"}×, no-op ${(smNoop / median(noops)).toFixed(1)}×`)
  }
  fs.rmSync(work, { recursive: true, force: true })
  console.log(`BENCH orchestration cold_s=${fmt(cold.s)} noop_s=${fmt(median(noops))} snakemake_cold_s=${fmt(smCold)} snakemake_noop_s=${fmt(smNoop)}`)
}
