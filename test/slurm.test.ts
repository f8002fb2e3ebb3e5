/**
 * The Slurm executor against a real Slurm (slurmctld + slurmd + munged from Debian), started by
 * scripts/slurm-local.sh. `.ci/run` starts it and sets DAG_SLURM_TESTS=required, so in CI these
 * tests cannot skip; on a machine without Slurm they skip with the reason.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { SubmittedJob } from "../engine/slurm/spec.js"
import { dagAsync, dagAwait, demoInputs, readRunRecord, sandbox, summary, type CliResult, type Sandbox, waitFor } from "./helpers.js"

const slurmUp = (): boolean => {
  const r = spawnSync("scontrol", ["ping"], { encoding: "utf8", timeout: 10_000 })
  return r.status === 0 && /\bUP\b/.test(r.stdout)
}
const required = process.env.DAG_SLURM_TESTS === "required"
const available = slurmUp()
if (required && !available) throw new Error("DAG_SLURM_TESTS=required but no Slurm controller answers `scontrol ping`: run scripts/slurm-local.sh start")
const suite = available ? describe : describe.skip
if (!available) console.warn("slurm tests skipped: no Slurm controller answers `scontrol ping` (start one with scripts/slurm-local.sh start)")

const boxes: Array<Sandbox> = []
afterAll(() => {
  // never leave jobs behind, whatever a test did
  const ids = boxes.flatMap((b) => (fs.existsSync(b.runs) ? fs.readdirSync(b.runs) : []).flatMap((run) => jobsOf(b, run).map((j) => j.job)))
  if (ids.length > 0) spawnSync("scancel", ids)
})

/** A sandbox whose runs use the Slurm executor with these cluster settings. */
const slurmBox = (name: string, config: Record<string, unknown> = {}): Sandbox => {
  const box = sandbox(name)
  const file = path.join(box.dir, "slurm.json")
  fs.writeFileSync(file, JSON.stringify({ pollMs: 100, pollMaxMs: 1000, ...config }))
  boxes.push(box)
  return { ...box, env: { ...box.env, DAG_SLURM_CONFIG: file } }
}

const jobsOf = (box: Sandbox, run: string): ReadonlyArray<SubmittedJob> => {
  const file = path.join(box.runs, run, "slurm", "jobs.jsonl")
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SubmittedJob)
    : []
}

const outputsOf = (box: Sandbox, run: string) => Object.fromEntries(readRunRecord(box, run).nodes.map((n) => [n.node, n.outputs]))

const runsOf = (box: Sandbox) => (fs.existsSync(box.runs) ? fs.readdirSync(box.runs).sort() : [])

const exited = (child: ReturnType<typeof dagAsync>) =>
  new Promise<CliResult>((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })

/** Lines the tasks printed for computed shards, per node, over every run in the box. */
const computedLines = (box: Sandbox): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const run of runsOf(box)) {
    const dir = path.join(box.runs, run, "slurm")
    if (!fs.existsSync(dir)) continue
    for (const node of fs.readdirSync(dir)) {
      const logs = path.join(dir, node, "logs")
      if (!fs.existsSync(logs)) continue
      for (const f of fs.readdirSync(logs).filter((x) => x.endsWith(".out"))) {
        const n = fs
          .readFileSync(path.join(logs, f), "utf8")
          .split("\n")
          .filter((l) => /^shard \d+: computed/.test(l)).length
        if (n > 0) counts[node] = (counts[node] ?? 0) + n
      }
    }
  }
  return counts
}

const squeueIds = (): ReadonlyArray<string> => spawnSync("squeue", ["-h", "-r", "-o", "%i"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean)

suite("Slurm executor (real slurmctld/slurmd)", () => {
  it("runs demo as array jobs (batched, split at maxArraySize) and gives the same artifacts as the local executor", { timeout: 180_000 }, async () => {
    const local = sandbox("slurm-local-ref")
    const paths = demoInputs(local, 8) // 12 files → 12 shards per map node
    const p = ["--param", `demo/read.paths=${paths}`]
    const ref = summary(await dagAwait(local, ["run", "demo", ...p, "--json"]))

    // demo/clean's tasks get 2 CPUs: they compute their shards two at a time on worker threads
    const box = slurmBox("slurm-demo", { shardsPerTask: 3, maxArraySize: 3, nodes: { "demo/clean": { cpus: 2 } } })
    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", ...p, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const s = summary(r)
    expect(s.nodes.every((n) => n.status === "computed")).toBe(true)
    expect(outputsOf(box, s.run)).toEqual(outputsOf(local, ref.run))

    const record = readRunRecord(box, s.run)
    expect(record.executor).toBe("slurm")
    // 12 shards, 3 per task → 4 tasks; at most 3 tasks per array → arrays of 3 and 1
    const jobs = jobsOf(box, s.run)
    const readJobs = jobs.filter((j) => j.node === "demo/read")
    expect(readJobs.map((j) => j.tasks)).toEqual([3, 1])
    expect(readJobs.reduce((a, j) => a + j.shards, 0)).toBe(12)
    // global nodes run as single jobs
    expect(jobs.filter((j) => j.node === "demo/top-words").map((j) => j.tasks)).toEqual([1])
    // the journal says which host and which array task made each shard
    const read = record.nodes.find((n) => n.node === "demo/read")!
    expect(read.shardLog).toHaveLength(12)
    for (const sh of read.shardLog) {
      expect(sh.host).toBe(os.hostname())
      expect(sh.job).toMatch(/^\d+_\d+$/)
    }
    const cleanLogs = path.join(box.runs, s.run, "slurm", "demo_clean", "logs")
    const cleanOut = fs
      .readdirSync(cleanLogs)
      .filter((f) => f.endsWith(".out"))
      .map((f) => fs.readFileSync(path.join(cleanLogs, f), "utf8"))
      .join("")
    expect(cleanOut.match(/^shard \d+: computed .* \(thread \d+\)$/gm)).toHaveLength(12)
    // status and report name the executor, the jobs and the array tasks
    const status = (await dagAwait(box, ["status", "--run", s.run])).stdout
    expect(status).toContain("executor slurm")
    expect(status).toMatch(new RegExp(`slurm: ${jobs.length} jobs \\(\\d+ tasks\\)`))
    const report = fs.readFileSync(path.join(box.runs, s.run, "report.html"), "utf8")
    expect(report).toContain("Slurm tasks")
    expect(report).toContain(read.shardLog[0]!.job!)
    // every task of every job finished and left the queue
    expect(squeueIds().filter((id) => jobs.some((j) => id.startsWith(`${j.job}_`) || id === j.job))).toEqual([])

    // a second run is all cached and submits nothing
    const again = summary(await dagAwait(box, ["run", "demo", "--profile", "slurm", ...p, "--json"]))
    expect(again.nodes.every((n) => n.status === "cached")).toBe(true)
    expect(jobsOf(box, again.run)).toHaveLength(0)
  })

  it("the sample proof-pile-2 under Slurm gives the same artifacts as the local executor", { timeout: 400_000 }, async () => {
    const p = ["--param", "train/tiny-lm.steps=3", "--param", "eval/math.limit=2"]
    const local = sandbox("slurm-pp2-ref")
    const ref = await dagAwait(local, ["run", "proof-pile-2", ...p, "--json"])
    expect(ref.code, ref.stderr).toBe(0)
    const box = slurmBox("slurm-pp2", { shardsPerTask: 2 })
    const r = await dagAwait(box, ["run", "proof-pile-2", "--profile", "slurm", ...p, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const s = summary(r)
    expect(s.nodes.length).toBeGreaterThanOrEqual(30)
    expect(s.nodes.every((n) => n.status === "computed")).toBe(true)
    const mine = outputsOf(box, s.run)
    expect(mine).toEqual(outputsOf(local, summary(ref).run))
    // every node ran as Slurm jobs: arrays for shard nodes, single jobs for global ones
    const jobs = jobsOf(box, s.run)
    expect(new Set(jobs.map((j) => j.node))).toEqual(new Set(Object.keys(mine)))
  })

  it("retries a crashing task, then reports it with its stderr log path and last lines", { timeout: 120_000 }, async () => {
    const box = slurmBox("slurm-crash", { retries: 1, nodes: { "demo/clean": { setup: ["echo 'injected crash: segfault in clean' >&2", "exit 3"] } } })
    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", "--json"])
    expect(r.code).toBe(1)
    const s = summary(r)
    expect(s.nodes.find((n) => n.node === "demo/clean")!.status).toBe("failed")
    expect(s.nodes.find((n) => n.node === "demo/read")!.status).toBe("computed")
    // first attempt plus one retry
    expect(
      jobsOf(box, s.run)
        .filter((j) => j.node === "demo/clean")
        .map((j) => j.attempt)
    ).toEqual([1, 2])
    const clean = readRunRecord(box, s.run).nodes.find((n) => n.node === "demo/clean")!
    const error = clean.errors.at(-1)!
    expect(error).toMatch(/ended FAILED \(attempt 2 of 2\)/)
    expect(error).toContain("injected crash: segfault in clean")
    const log = /stderr (\S+\.err)/.exec(error)![1]!
    expect(fs.existsSync(log)).toBe(true)
    expect(clean.shardLog.every((sh) => sh.status === "failed" && sh.log === log)).toBe(true)
    // dag status and the report show the log and its last lines
    const status = await dagAwait(box, ["status", "--run", s.run])
    expect(status.stdout).toContain(log)
    expect(status.stdout).toContain("injected crash")
    expect(fs.readFileSync(path.join(box.runs, s.run, "report.html"), "utf8")).toContain("injected crash: segfault in clean")
  })

  it("a task that crashes once is retried and the run completes with the local artifacts", { timeout: 120_000 }, async () => {
    const local = sandbox("slurm-once-ref")
    const ref = summary(await dagAwait(local, ["run", "demo", "--json"]))
    const box = slurmBox("slurm-once", {})
    const mark = path.join(box.dir, "crashed-once")
    const config = JSON.parse(fs.readFileSync(box.env.DAG_SLURM_CONFIG!, "utf8"))
    config.nodes = { "demo/words": { setup: [`if [ ! -e '${mark}' ]; then touch '${mark}'; echo 'first attempt dies' >&2; exit 9; fi`] } }
    fs.writeFileSync(box.env.DAG_SLURM_CONFIG!, JSON.stringify(config))
    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", "--json"])
    expect(r.code, r.stderr).toBe(0)
    const s = summary(r)
    expect(outputsOf(box, s.run)).toEqual(outputsOf(local, ref.run))
    const words = readRunRecord(box, s.run).nodes.find((n) => n.node === "demo/words")!
    expect(words.shardLog.some((sh) => sh.attempts === 2)).toBe(true)
    expect(
      jobsOf(box, s.run)
        .filter((j) => j.node === "demo/words")
        .map((j) => j.attempt)
    ).toEqual([1, 2])
  })

  it("scancel mid-shard leaves no partial artifact, and a rerun completes", { timeout: 180_000 }, async () => {
    const box = slurmBox("slurm-scancel", {})
    const input = path.join(box.dir, "big")
    fs.mkdirSync(input)
    const words = ["alpha", "beta", "gamma", "theorem", "proof", "lemma", "integral", "prime"]
    const paras = Array.from({ length: 300_000 }, (_, i) => Array.from({ length: 16 }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(" "))
    fs.writeFileSync(path.join(input, "big.txt"), paras.join("\n\n"))
    const p = ["--param", `demo/read.paths=${input}/*.txt`]
    const child = dagAsync(box, ["run", "demo", "--profile", "slurm", ...p])
    const done = exited(child)
    const tmp = path.join(box.store, "tmp")
    // the task is writing its shard: its temporary file exists
    const writing = await waitFor(() => fs.existsSync(tmp) && fs.readdirSync(tmp).some((f) => f.includes("demo_read")), 60_000)
    expect(writing).toBe(true)
    const run = runsOf(box)[0]!
    const job = jobsOf(box, run).find((j) => j.node === "demo/read")!.job
    expect(spawnSync("scancel", [job]).status).toBe(0)
    const r = await done
    expect(r.code).toBe(1)
    const read = readRunRecord(box, run).nodes.find((n) => n.node === "demo/read")!
    expect(read.status).toBe("failed")
    expect(read.errors.at(-1)).toMatch(/ended CANCELLED \(not retried: it was cancelled\)/)
    // nothing partial: no temporaries, no shard record, no object
    await waitFor(() => fs.readdirSync(tmp).length === 0, 10_000)
    expect(fs.readdirSync(tmp)).toEqual([])
    const objects = path.join(box.store, "objects")
    const files = (d: string): Array<string> => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [e.name])) : [])
    expect(files(objects).filter((f) => f.endsWith(".parquet"))).toEqual([])
    // the rerun computes the shard from scratch and completes
    const again = await dagAwait(box, ["run", "demo", "--profile", "slurm", ...p, "--json", "--select", "demo/read"])
    expect(again.code, again.stderr).toBe(0)
    expect(summary(again).nodes.find((n) => n.node === "demo/read")!.rows.out).toBe(300_000)
  })

  it("a driver killed mid-run and started again re-attaches to running tasks and redoes no committed shard", { timeout: 180_000 }, async () => {
    const local = sandbox("slurm-kill-ref")
    const paths = demoInputs(local, 4)
    const p = ["--param", `demo/read.paths=${paths}`]
    const ref = summary(await dagAwait(local, ["run", "demo", ...p, "--json"]))

    const box = slurmBox("slurm-kill", { shardsPerTask: 1, nodes: { "demo/clean": { setup: ["sleep 3"] } } })
    const child = dagAsync(box, ["run", "demo", "--profile", "slurm", ...p])
    const done = exited(child)
    const submittedClean = await waitFor(() => runsOf(box).length > 0 && jobsOf(box, runsOf(box)[0]!).some((j) => j.node === "demo/clean"), 60_000)
    expect(submittedClean).toBe(true)
    child.kill("SIGKILL")
    await done
    const first = runsOf(box)[0]!

    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", ...p, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const s = summary(r)
    expect(outputsOf(box, s.run)).toEqual(outputsOf(local, ref.run))
    // demo/read was committed before the kill: cached, not resubmitted
    expect(s.nodes.find((n) => n.node === "demo/read")!.status).toBe("cached")
    expect(jobsOf(box, s.run).some((j) => j.node === "demo/read")).toBe(false)
    // the clean tasks still queued or running were re-attached to, not submitted again
    const cleanJobs = jobsOf(box, s.run).filter((j) => j.node === "demo/clean")
    expect(cleanJobs.length).toBeGreaterThan(0)
    expect(cleanJobs.every((j) => j.attached === true)).toBe(true)
    // every shard of every node was computed exactly once over both drivers
    expect(computedLines(box)).toEqual({ demo_read: 8, demo_clean: 8, demo_words: 8 })
    expect(jobsOf(box, first).length).toBeGreaterThan(0)
  })

  it("a restarted driver re-attaches to a global node's running job and takes its result", { timeout: 120_000 }, async () => {
    const local = sandbox("slurm-global-ref")
    const ref = summary(await dagAwait(local, ["run", "demo", "--json"]))
    const box = slurmBox("slurm-global", { nodes: { "demo/top-words": { setup: ["sleep 4"] } } })
    const child = dagAsync(box, ["run", "demo", "--profile", "slurm"])
    const done = exited(child)
    expect(await waitFor(() => runsOf(box).length > 0 && jobsOf(box, runsOf(box)[0]!).some((j) => j.node === "demo/top-words"), 60_000)).toBe(true)
    child.kill("SIGKILL")
    await done
    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", "--json"])
    expect(r.code, r.stderr).toBe(0)
    const s = summary(r)
    expect(outputsOf(box, s.run)).toEqual(outputsOf(local, ref.run))
    const top = jobsOf(box, s.run).filter((j) => j.node === "demo/top-words")
    expect(top).toHaveLength(1)
    expect(top[0]!.attached).toBe(true)
    expect(top[0]!.job).toBe(jobsOf(box, runsOf(box)[0]!).find((j) => j.node === "demo/top-words")!.job)
  })

  it("dag cancel scancels what a run submitted, also a job missing from its job list (a driver killed right after sbatch)", { timeout: 120_000 }, async () => {
    const box = slurmBox("slurm-cancel", { nodes: { "demo/read": { setup: ["sleep 60"] } } })
    const child = dagAsync(box, ["run", "demo", "--profile", "slurm"])
    const done = exited(child)
    expect(await waitFor(() => runsOf(box).length > 0 && jobsOf(box, runsOf(box)[0]!).length > 0, 60_000)).toBe(true)
    const run = runsOf(box)[0]!
    // the job list as a driver killed between sbatch and its list would leave it: empty
    const list = path.join(box.runs, run, "slurm", "jobs.jsonl")
    const listed = fs.readFileSync(list, "utf8")
    fs.writeFileSync(list, "")
    const c = await dagAwait(box, ["cancel", run])
    fs.writeFileSync(list, listed)
    expect(c.code, c.stderr).toBe(0)
    expect(c.stdout).toMatch(/cancelled 1 Slurm job of run/)
    expect(c.stdout).toContain(jobsOf(box, run)[0]!.job)
    const r = await done
    expect(r.code).toBe(1)
    const ids = jobsOf(box, run).map((j) => j.job)
    expect(await waitFor(() => !squeueIds().some((id) => ids.some((j) => id === j || id.startsWith(`${j}_`))), 30_000)).toBe(true)
    expect(
      readRunRecord(box, run)
        .nodes.find((n) => n.node === "demo/read")!
        .errors.at(-1)
    ).toMatch(/CANCELLED/)
  })

  it("a node asking for more memory than the cluster has is rejected, with Slurm's message verbatim", { timeout: 120_000 }, async () => {
    const box = slurmBox("slurm-mem", { nodes: { "demo/words": { mem: "100000G" } } })
    const r = await dagAwait(box, ["run", "demo", "--profile", "slurm", "--json"])
    expect(r.code).toBe(1)
    const s = summary(r)
    expect(s.nodes.find((n) => n.node === "demo/clean")!.status).toBe("computed")
    const words = readRunRecord(box, s.run).nodes.find((n) => n.node === "demo/words")!
    expect(words.status).toBe("failed")
    expect(words.errors.at(-1)).toContain("sbatch: error: Memory specification can not be satisfied")
    expect(words.errors.at(-1)).toContain("sbatch: error: Batch job submission failed: Requested node configuration is not available")
    expect(jobsOf(box, s.run).some((j) => j.node === "demo/words")).toBe(false)
  })

  it("sbatch missing, or slurmctld down: a clear error and nothing submitted", { timeout: 60_000 }, async () => {
    const missing = slurmBox("slurm-missing")
    const r = await dagAwait({ ...missing, env: { ...missing.env, PATH: "/nonexistent" } }, ["run", "demo", "--profile", "slurm"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/sbatch was not found on PATH/)
    const run = runsOf(missing)[0]!
    expect(jobsOf(missing, run)).toHaveLength(0)
    expect(readRunRecord(missing, run).status).toBe("failed")

    // a client pointed at a controller port nobody listens on sees slurmctld as down
    const down = slurmBox("slurm-down")
    const conf = fs.readFileSync("/etc/slurm/slurm.conf", "utf8").replace(/^SlurmctldPort=.*$/m, "") + "\nSlurmctldPort=6899\n"
    const confFile = path.join(down.dir, "slurm.conf")
    fs.writeFileSync(confFile, conf)
    const d = await dagAwait({ ...down, env: { ...down.env, SLURM_CONF: confFile } }, ["run", "demo", "--profile", "slurm"])
    expect(d.code).toBe(2)
    expect(d.stderr).toMatch(/slurmctld is not responding .*nothing was submitted/s)
    expect(jobsOf(down, runsOf(down)[0]!)).toHaveLength(0)
    expect(fs.existsSync(path.join(down.store, "keys")) ? fs.readdirSync(path.join(down.store, "keys")) : []).toEqual([])
  })
})
