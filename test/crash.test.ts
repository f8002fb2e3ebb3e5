/** Crashes and contention: SIGKILL mid-run then resume, and two runs at once on one store. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dag, dagAsync, demoInputs, nodeOf, readRunRecord, sandbox, summary, type Sandbox, waitFor } from "./helpers.js"

const finalArtifacts = (box: Sandbox, run: string) => Object.fromEntries(readRunRecord(box, run).nodes.map((n) => [n.node, n.outputs]))

const exited = (child: ReturnType<typeof dagAsync>) => new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))

describe("crash safety", () => {
  it("a run killed with SIGKILL mid-run resumes, reuses committed shards, and ends with the same artifacts", async () => {
    const reference = sandbox("ref")
    const paths = demoInputs(reference, 60)
    const p = ["--param", `demo/read.paths=${paths}`, "--param", "demo/clean.minChars=10"]
    const clean = summary(dag(reference, ["run", "demo", ...p, "--json"]))
    expect(clean.nodes.every((n) => n.status === "computed")).toBe(true)

    const box = sandbox("kill")
    const child = dagAsync(box, ["run", "demo", ...p])
    const events = () => {
      const runs = fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []
      const file = runs[0] ? path.join(box.runs, runs[0], "events.jsonl") : ""
      return file && fs.existsSync(file)
        ? fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l.includes('"type":"shard"')).length
        : 0
    }
    const sawShards = await waitFor(() => events() >= 30, 60_000)
    child.kill("SIGKILL")
    await exited(child)
    expect(sawShards).toBe(true)
    const committedBeforeKill = events()
    expect(committedBeforeKill).toBeLessThan(64 * 3) // it really was mid-run
    const killedRun = fs.readdirSync(box.runs)[0]!
    expect(dag(box, ["status", "--run", killedRun]).stdout).toMatch(/interrupted/)

    const resumed = summary(dag(box, ["run", "demo", ...p, "--json"]))
    const reused = resumed.nodes.reduce((n, x) => n + x.shards.cached, 0)
    expect(reused).toBeGreaterThanOrEqual(committedBeforeKill - 2)
    expect(finalArtifacts(box, resumed.run)).toEqual(finalArtifacts(reference, clean.run))
    // nothing half-written is left behind, and every shard verifies
    expect(fs.readdirSync(path.join(box.store, "tmp"))).toEqual([])
    const verified = summary(dag(box, ["run", "demo", ...p, "--json", "--verify"]))
    expect(verified.nodes.every((n) => n.status === "cached")).toBe(true)
  }, 180_000)

  it("two runs started at once on the same store both succeed and agree", async () => {
    const box = sandbox("twins")
    const paths = demoInputs(box, 24)
    const p = ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"]
    const a = dagAsync(box, p)
    const b = dagAsync(box, p)
    let outA = ""
    let outB = ""
    a.stdout.on("data", (d) => (outA += d))
    b.stdout.on("data", (d) => (outB += d))
    const [codeA, codeB] = await Promise.all([exited(a), exited(b)])
    expect([codeA, codeB]).toEqual([0, 0])
    const sa = summary({ code: 0, stdout: outA, stderr: "" })
    const sb = summary({ code: 0, stdout: outB, stderr: "" })
    expect(finalArtifacts(box, sa.run)).toEqual(finalArtifacts(box, sb.run))
    const third = summary(dag(box, [...p, "--verify"]))
    expect(third.nodes.every((n) => n.status === "cached")).toBe(true)
    expect(nodeOf(third, "demo/read").shards.total).toBe(28)
  }, 180_000)

  it("Ctrl-C (SIGINT) stops the run with exit 130, sweeps temporaries, and the next run resumes", async () => {
    const box = sandbox("sigint")
    const paths = demoInputs(box, 80)
    const p = ["--param", `demo/read.paths=${paths}`]
    const child = dagAsync(box, ["run", "demo", ...p])
    let err = ""
    child.stderr.on("data", (d) => (err += d))
    const started = await waitFor(() => {
      const runs = fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []
      const file = runs[0] ? path.join(box.runs, runs[0], "events.jsonl") : ""
      return file !== "" && fs.existsSync(file) && fs.readFileSync(file, "utf8").includes('"type":"shard"')
    }, 60_000)
    expect(started).toBe(true)
    child.kill("SIGINT")
    const code = await exited(child)
    expect(code).toBe(130)
    expect(err).toMatch(/interrupted — committed shards are kept/)
    expect(fs.readdirSync(path.join(box.store, "tmp"))).toEqual([])
    const killedRun = fs.readdirSync(box.runs)[0]!
    expect(readRunRecord(box, killedRun).status).toBe("interrupted")
    const resumed = summary(dag(box, ["run", "demo", ...p, "--json"]))
    expect(resumed.nodes.reduce((n, x) => n + x.shards.cached, 0)).toBeGreaterThan(0)
    expect(resumed.nodes.every((n) => n.status !== "failed")).toBe(true)
  }, 180_000)

  // Needs root to mount a small tmpfs (CI runs as root); elsewhere the test is skipped, not passed.
  const canMount = (() => {
    if (process.getuid?.() !== 0) return false
    const dir = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "mathdag-mnt-probe-"))
    const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).status === 0
    if (ok) spawnSync("umount", [dir])
    fs.rmSync(dir, { recursive: true, force: true })
    return ok
  })()

  it.skipIf(!canMount)(
    "a full disk fails the run with a clear error, leaves no partial artifact, and the run resumes once space is freed (real tmpfs)",
    () => {
      const box = sandbox("enospc")
      const paths = demoInputs(box, 40)
      const mnt = path.join(box.dir, "small")
      fs.mkdirSync(mnt)
      expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]).status).toBe(0)
      try {
        const env = { ...box, env: { ...box.env, DAG_STORE: path.join(mnt, "store") } }
        const p = ["run", "demo", "--param", `demo/read.paths=${paths}`]
        const full = dag(env, p)
        expect(full.code).toBe(1)
        expect(full.stdout).toMatch(/the disk is full: free space \(or run `dag gc`\) and re-run/)
        expect(fs.readdirSync(path.join(mnt, "store", "tmp"))).toEqual([])
        expect(spawnSync("mount", ["-o", "remount,size=64m", mnt]).status).toBe(0)
        const again = summary(dag(env, [...p, "--json", "--verify"]))
        expect(again.nodes.every((n) => n.status !== "failed")).toBe(true)
      } finally {
        spawnSync("umount", [mnt])
      }
    },
    180_000
  )

  it("CPU-heavy map shards run on worker threads, using every worker", () => {
    const box = sandbox("workers")
    const paths = demoInputs(box, 12)
    const s = summary(dag(box, ["run", "demo", "--profile", "ci", "--param", `demo/read.paths=${paths}`, "--json"]))
    const clean = readRunRecord(box, s.run).nodes.find((n) => n.node === "demo/clean")!
    const threads = new Set(clean.shardLog.map((x) => x.thread))
    expect(threads.has(0)).toBe(false) // not the main thread
    expect(threads.size).toBe(2) // the ci profile has two workers, and both took shards
    const words = readRunRecord(box, s.run).nodes.find((n) => n.node === "demo/words")!
    expect(new Set(words.shardLog.map((x) => x.thread))).toEqual(new Set([0])) // not marked CPU-heavy: inline
  })
})
