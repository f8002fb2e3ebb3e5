/** The Slurm executor's pure parts: settings layering, per-node resources, scripts, flags, squeue parsing. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { expandTaskIds, parseStates } from "../engine/slurm/client.js"
import { batchScript, chunk, sbatchFlags, shq } from "../engine/slurm/script.js"
import { resourceFlags, resourcesFor, slurmSettings } from "../engine/slurm/settings.js"
import { tempDir } from "./helpers.js"
import { instanceLimit, sharePerInstance, slurmTaskMem } from "../engine/resources/memory.js"

describe("Slurm settings", () => {
  it("layers config, profile and DAG_SLURM_CONFIG key by key, and resolves per-node resources by glob", () => {
    const s = slurmSettings([
      { partition: "cpu", mem: "1G", shardsPerTask: 8, nodes: { "owm/*": { cpus: 4 }, "train/*": { partition: "gpu", extra: ["--gres=gpu:1"] } } },
      undefined,
      { account: "math", mem: "2G", nodes: { "owm/extract": { mem: "8G" }, "owm/*": { time: "2:00:00" } } },
    ])
    expect(s.shardsPerTask).toBe(8)
    expect(s.retries).toBe(2)
    expect(resourcesFor(s, "owm/extract")).toEqual({ partition: "cpu", mem: "8G", account: "math", cpus: 4, time: "2:00:00" })
    expect(resourcesFor(s, "owm/warc")).toEqual({ partition: "cpu", mem: "2G", account: "math", cpus: 4, time: "2:00:00" })
    expect(resourcesFor(s, "train/tiny-lm")).toEqual({ partition: "gpu", mem: "2G", account: "math", extra: ["--gres=gpu:1"] })
    expect(resourcesFor(s, "owmx/extract").cpus).toBeUndefined() // a glob is anchored: owm/* is not owmx/*
    expect(resourceFlags(resourcesFor(s, "train/tiny-lm"))).toEqual(["--partition=gpu", "--account=math", "--mem=2G", "--gres=gpu:1"])
  })
})

describe("Slurm --mem from the memory budget", () => {
  it("a task asks for its DuckDB limit (the main thread's two shares) plus Node.js room; a configured mem wins", () => {
    const budget = 4 * 1024 ** 3
    const mem = slurmTaskMem(budget, 2)
    const mib = Number(/^(\d+)M$/.exec(mem)![1])
    expect(mib * 1024 ** 2).toBeGreaterThan(2 * sharePerInstance(budget, 2))
    expect(mib).toBeLessThan(4096)
    expect(resourceFlags(resourcesFor(slurmSettings([{ mem }, { partition: "cpu" }]), "owm/warc"))).toContain(`--mem=${mem}`)
    expect(resourcesFor(slurmSettings([{ mem }, { nodes: { "train/*": { mem: "8G" } } }]), "train/tiny-lm").mem).toBe("8G")
    // the limit a task's DuckDB gets is the same two shares
    const before = process.env.DAG_DUCKDB_MEMORY
    process.env.DAG_DUCKDB_MEMORY = String(sharePerInstance(budget, 2))
    expect(instanceLimit(true)).toBe(2 * sharePerInstance(budget, 2))
    expect(instanceLimit(false)).toBe(sharePerInstance(budget, 2))
    if (before === undefined) delete process.env.DAG_DUCKDB_MEMORY
    else process.env.DAG_DUCKDB_MEMORY = before
  })
})

describe("batch scripts and flags", () => {
  it("batches shards per task and maps each array task id to its shard list", () => {
    expect(chunk([0, 1, 2, 3, 4, 5, 6], 3)).toEqual([[0, 1, 2], [3, 4, 5], [6]])
    const script = batchScript({
      node: "owm/extract",
      run: "R1",
      nodeBin: "/usr/bin/node",
      dagBin: "/x/bin/dag.cjs",
      store: "/shared/st'ore",
      runs: "/shared/runs",
      setup: ["module load x"],
      batches: [[0, 1], [2]],
    })
    expect(script).toContain("export DAG_NO_REBUILD=1 DAG_STORE='/shared/st'\\''ore' DAG_RUNS='/shared/runs'")
    expect(script).toContain("module load x")
    expect(script).toContain("exec '/usr/bin/node' '/x/bin/dag.cjs' exec-shard 'R1' 'owm/extract' ${SHARDS[$SLURM_ARRAY_TASK_ID]}")
    // bash itself resolves each task's shards
    const dir = tempDir("slurm-script")
    const file = path.join(dir, "s.sh")
    fs.writeFileSync(file, script.replace(/^exec .*$/m, 'echo "${SHARDS[$SLURM_ARRAY_TASK_ID]}"').replace("module load x", ""))
    expect(spawnSync("bash", [file], { env: { SLURM_ARRAY_TASK_ID: "0" }, encoding: "utf8" }).stdout.trim()).toBe("0 1")
    expect(spawnSync("bash", [file], { env: { SLURM_ARRAY_TASK_ID: "1" }, encoding: "utf8" }).stdout.trim()).toBe("2")
    expect(shq("a'b")).toBe(`'a'\\''b'`)
  })

  it("names logs per array task (%A_%a) or per job (%j) and passes resources", () => {
    const array = sbatchFlags({ node: "demo/words", logs: "/l", root: "/r", resources: { cpus: 2, mem: "4G" }, tasks: 5 })
    expect(array).toEqual(["--job-name=dag:demo/words", "--array=0-4", "--output=/l/%A_%a.out", "--error=/l/%A_%a.err", "--chdir=/r", "--cpus-per-task=2", "--mem=4G"])
    const single = sbatchFlags({ node: "demo/summary", logs: "/l", root: "/r", resources: {} })
    expect(single).toEqual(["--job-name=dag:demo/summary", "--output=/l/%j.out", "--error=/l/%j.err", "--chdir=/r"])
  })
})

describe("squeue and sacct output", () => {
  it("expands pending array ranges and keeps the state word", () => {
    expect(expandTaskIds("12_[0-2,5%2]")).toEqual(["12_0", "12_1", "12_2", "12_5"])
    expect(expandTaskIds("12_3")).toEqual(["12_3"])
    const states = parseStates("12_0|RUNNING|vm\n12_[1-2]|PENDING|(Resources)\n13|CANCELLED by 0|vm\n\n")
    expect(states.get("12_0")).toEqual({ state: "RUNNING", where: "vm" })
    expect(states.get("12_2")).toEqual({ state: "PENDING", where: "(Resources)" })
    expect(states.get("13")!.state).toBe("CANCELLED")
    expect(states.size).toBe(4)
  })
})

describe("progress of cluster tasks", () => {
  it("the plain progress line shows shards done and how many are queued and running", async () => {
    const { vi } = await import("vitest")
    const { plainProgress } = await import("../engine/exec/progress.js")
    vi.useFakeTimers()
    try {
      vi.setSystemTime(new Date("2026-01-01T00:00:00Z"))
      const lines: Array<string> = []
      const p = plainProgress({ write: (t: string) => lines.push(t) } as unknown as NodeJS.WriteStream)
      p.start("owm/extract", 10)
      p.advance("owm/extract", 100)
      vi.setSystemTime(new Date("2026-01-01T00:00:06Z"))
      p.tasks!("owm/extract", { queued: 6, running: 3 })
      expect(lines.join("")).toContain("owm/extract: 1/10 shards done · 6 queued, 3 running")
    } finally {
      vi.useRealTimers()
    }
  })
})
