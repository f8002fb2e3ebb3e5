// Slurm submission overhead, on the cluster `scontrol ping` answers for (scripts/slurm-local.sh
// start gives a one-node one). The work is demo/read over SHARDS small files, so nearly all the
// time is overhead:
//   local_s        the same node with the local executor (baseline)
//   one_task_s     all shards in one array task (shardsPerTask = SHARDS): one submission, one task
//   per_shard_s    one array task per shard (shardsPerTask = 1): one submission, SHARDS tasks
//   bare_array_s   a bare `sbatch --array` of SHARDS `true` tasks, submit → all gone from squeue
//   sbatch_ms      the sbatch command itself (median of 5 single submissions)
// Derived: per_array_s = one_task_s − local_s (the fixed cost of one array job), and
// per_shard_ms = (per_shard_s − one_task_s) / (SHARDS − 1) (the cost of each extra array task,
// with the node's CPUs running tasks side by side).
//   --shards=N   number of shards (default 48)
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const run = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...options })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** Runs demo/read in a fresh store; returns the node's time from the run journal, in seconds. */
const nodeSeconds = (work, name, inputs, extraEnv, args) => {
  const dir = path.join(work, name)
  const env = { ...process.env, DAG_STORE: path.join(dir, "store"), DAG_RUNS: path.join(dir, "runs"), CI: "true", DAG_NO_REBUILD: "1", ...extraEnv }
  const out = run(process.execPath, ["bin/dag.cjs", "run", "demo", "--select", "demo/read", "--param", `demo/read.paths=${inputs}`, "--json", ...args], { cwd: root, env })
  const summary = JSON.parse(out.trim().split("\n").at(-1))
  const read = summary.nodes.find((n) => n.node === "demo/read")
  if (read.status !== "computed") throw new Error(`${name}: demo/read was ${read.status}`)
  const record = JSON.parse(fs.readFileSync(path.join(dir, "runs", summary.run, "run.json"), "utf8"))
  return record.nodes.find((n) => n.node === "demo/read").ms / 1000
}

const bareArray = async (work, tasks) => {
  const script = path.join(work, "true.sh")
  fs.writeFileSync(script, "#!/bin/bash\ntrue\n", { mode: 0o755 })
  const t = performance.now()
  const job = run("sbatch", ["--parsable", `--array=0-${tasks - 1}`, "--output=/dev/null", script]).trim().split(";")[0]
  while (run("squeue", ["-h", "-j", job, "-o", "%i"]).trim() !== "") await sleep(50)
  return (performance.now() - t) / 1000
}

export const main = async (args) => {
  const shards = Number(args.find((a) => a.startsWith("--shards="))?.split("=")[1] ?? 48)
  const ping = spawnSync("scontrol", ["ping"], { encoding: "utf8" })
  if (ping.status !== 0 || !/\bUP\b/.test(ping.stdout)) {
    console.error("no Slurm controller answers `scontrol ping`: start one with scripts/slurm-local.sh start")
    process.exit(2)
  }
  run(process.execPath, ["bin/dag.cjs", "--help"], { cwd: root }) // builds dist/ if needed
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-bench-slurm-"))
  const inputs = path.join(work, "input")
  fs.mkdirSync(inputs)
  for (let i = 0; i < shards; i++) fs.writeFileSync(path.join(inputs, `f${String(i).padStart(3, "0")}.txt`), `Paragraph one of file ${i}.\n\nParagraph two: ${i} squared is ${i * i}.`)
  const glob = path.join(inputs, "*.txt")
  const slurmEnv = (perTask) => {
    const file = path.join(work, `slurm-${perTask}.json`)
    fs.writeFileSync(file, JSON.stringify({ shardsPerTask: perTask, cpus: 1, mem: "200M", nodes: {} }))
    return { DAG_SLURM_CONFIG: file }
  }

  const local = nodeSeconds(work, "local", glob, {}, [])
  console.log(`local executor: ${local.toFixed(3)} s for ${shards} shards`)
  const oneTask = nodeSeconds(work, "one-task", glob, slurmEnv(shards), ["--profile", "slurm"])
  console.log(`slurm, 1 array task of ${shards} shards: ${oneTask.toFixed(3)} s`)
  const perShard = nodeSeconds(work, "per-shard", glob, slurmEnv(1), ["--profile", "slurm"])
  console.log(`slurm, ${shards} array tasks of 1 shard: ${perShard.toFixed(3)} s`)
  const bare = await bareArray(work, shards)
  console.log(`bare sbatch --array of ${shards} \`true\` tasks: ${bare.toFixed(3)} s`)
  const submits = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    const job = run("sbatch", ["--parsable", "--output=/dev/null", "--wrap=true"]).trim()
    submits.push(performance.now() - t)
    while (run("squeue", ["-h", "-j", job, "-o", "%i"]).trim() !== "") await sleep(50)
  }
  const sbatchMs = median(submits)
  console.log(`sbatch call: ${submits.map((x) => x.toFixed(0)).join(" ")} ms (median ${sbatchMs.toFixed(0)})`)
  fs.rmSync(work, { recursive: true, force: true })
  const perArray = oneTask - local
  const perShardMs = ((perShard - oneTask) / (shards - 1)) * 1000
  console.log(
    `BENCH slurm shards=${shards} per_array_s=${perArray.toFixed(2)} per_shard_ms=${perShardMs.toFixed(0)} one_task_s=${oneTask.toFixed(2)} per_shard_task_s=${perShard.toFixed(2)} local_s=${local.toFixed(2)} bare_array_s=${bare.toFixed(2)} sbatch_ms=${sbatchMs.toFixed(0)}`
  )
}
