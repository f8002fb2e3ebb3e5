/**
 * Training under interruption: Ctrl-C acts within 2 s (after writing a checkpoint), kill -9 loses
 * at most the steps since the last checkpoint, only a checkpoint of exactly this cache key is
 * resumed, and two runs of the same key never share one.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { decodeCheckpoint, encodeCheckpoint } from "../nodes/train/model.js"
import { dagAsync, dagAwait, readRunRecord, sandbox, summary, waitFor } from "./helpers.js"

const box = sandbox("train")
const scratch = path.join(box.store, "scratch")
const checkpoints = () =>
  fs.existsSync(scratch)
    ? fs
        .readdirSync(scratch)
        .map((d) => path.join(scratch, d, "checkpoint.tinylm"))
        .filter((f) => fs.existsSync(f))
    : []
const train = (seed: number, steps = 60) => [
  "run",
  "proof-pile-2",
  "--param",
  `train/tiny-lm.seed=${seed}`,
  "--param",
  `train/tiny-lm.steps=${steps}`,
  "--param",
  "train/tiny-lm.checkpointEvery=5",
  "--param",
  "eval/math.limit=2",
  "--json",
]
const exitOf = (child: ReturnType<typeof dagAsync>) => new Promise<number | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))))
const events = (run: string) => fs.readFileSync(path.join(box.runs, run, "events.jsonl"), "utf8")

/** Starts a training run and waits for its first checkpoint. */
const startUntilCheckpoint = async (seed: number) => {
  for (const f of checkpoints()) fs.rmSync(path.dirname(f), { recursive: true, force: true })
  const child = dagAsync(box, train(seed))
  const exit = exitOf(child)
  const seen = await waitFor(() => checkpoints().length > 0, 120_000, 50)
  expect(seen).toBe(true)
  return { child, exit }
}

describe("training under interruption", () => {
  beforeAll(async () => {
    // everything up to the packed windows, once
    const r = await dagAwait(box, ["run", "proof-pile-2", "--select", "tokens/pack"])
    expect(r.code, r.stderr).toBe(0)
  }, 180_000)

  it("Ctrl-C during training exits 130 within 2 s, leaving a checkpoint stamped with the node's key; the re-run resumes from it", async () => {
    const { child, exit } = await startUntilCheckpoint(21)
    await new Promise((r) => setTimeout(r, 300))
    const sent = Date.now()
    child.kill("SIGINT")
    expect(await exit).toBe(130)
    expect(Date.now() - sent).toBeLessThan(2000)
    const [file] = checkpoints()
    const key = path.basename(path.dirname(file!))
    expect(decodeCheckpoint(fs.readFileSync(file!)).meta.key).toBe(key)
    const again = await dagAwait(box, train(21))
    expect(again.code, again.stderr).toBe(0)
    const s = summary(again)
    expect(events(s.run)).toMatch(/resuming from the checkpoint of step \d+/)
    expect(checkpoints()).toEqual([]) // removed once the model is committed
  }, 240_000)

  it("kill -9 after a checkpoint: the re-run succeeds and ends where an uninterrupted run ends", async () => {
    const { child, exit } = await startUntilCheckpoint(22)
    await new Promise((r) => setTimeout(r, 500))
    child.kill("SIGKILL")
    await exit
    const resumed = await dagAwait(box, train(22))
    expect(resumed.code, resumed.stderr).toBe(0)
    const s = summary(resumed)
    expect(events(s.run)).toMatch(/resuming from the checkpoint/)
    const lastLoss = async (run: string) => {
      const r = await dagAwait(box, ["sql", "select step, loss from train_tiny_lm__loss order by step desc limit 1", "--format", "json", "--run", run])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout)[0] as { step: number; loss: number }
    }
    const afterResume = await lastLoss(s.run)
    // the same key trained again from scratch, without interruption
    const fresh = await dagAwait(box, [...train(22), "--force", "train/tiny-lm"])
    expect(fresh.code, fresh.stderr).toBe(0)
    const uninterrupted = await lastLoss(summary(fresh).run)
    expect(afterResume.step).toBe(60)
    expect(afterResume.loss).toBeCloseTo(uninterrupted.loss, 3)
    // training runs on a worker thread of its own, so the main thread (progress, Ctrl-C) does not
    // freeze between steps (about 340 ms per step when it ran there, and over a second at TF.js start-up)
    const journal = JSON.parse(fs.readFileSync(path.join(box.runs, summary(fresh).run, "run.json"), "utf8")) as {
      mainThread: { maxStallMs: number; stalls: Array<{ atMs: number; ms: number }> }
      nodes: Array<{ node: string; messages?: Array<string> }>
    }
    expect(journal.nodes.find((n) => n.node === "train/tiny-lm")!.messages![0]).toMatch(/^running on a worker thread of its own \(thread \d+\)$/)
    // (the run's first second is start-up: loading DuckDB's native module; a loaded CI machine stretches it)
    for (const stall of journal.mainThread.stalls.filter((s) => s.atMs > 1000)) expect(stall.ms).toBeLessThan(500)
    expect(journal.mainThread.maxStallMs).toBeLessThan(2000)
  }, 300_000)

  it("a corrupt input shard met by a node on its own thread is repaired like any other: quarantined, its producer recomputes it, the run succeeds", async () => {
    const before = summary(await dagAwait(box, train(26, 6)))
    const sequences = readRunRecord(box, before.run).nodes.find((n) => n.node === "tokens/pack")!.outputs.sequences!
    const [shard] = JSON.parse(fs.readFileSync(path.join(box.store, "artifacts", sequences.slice(0, 2), `${sequences}.json`), "utf8")).shards as Array<{ hash: string }>
    const file = path.join(box.store, "objects", shard!.hash.slice(0, 2), `${shard!.hash}.parquet`)
    const original = fs.readFileSync(file)
    const damaged = Buffer.from(original)
    damaged[60] = damaged[60]! ^ 0x20
    fs.writeFileSync(file, damaged)
    // another seed: train/tiny-lm computes again and reads the damaged shard on its worker thread
    const r = await dagAwait(box, train(27, 6))
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readFileSync(file).equals(original)).toBe(true)
    expect(fs.readdirSync(path.join(box.store, "quarantine")).some((f) => f.includes(shard!.hash))).toBe(true)
    const log = events(summary(r).run)
    expect(log).toMatch(/running on a worker thread of its own/)
    // the thread's CorruptShardError reached the scheduler as one (not as a node failure)
    expect(log).toContain(`"type":"corrupt-shard","node":"train/tiny-lm","hash":"${shard!.hash}"`)
  }, 240_000)

  it("a checkpoint made for another key is discarded with a note, not resumed", async () => {
    const { child, exit } = await startUntilCheckpoint(23)
    child.kill("SIGKILL")
    await exit
    const [file] = checkpoints()
    const c = decodeCheckpoint(fs.readFileSync(file!))
    fs.writeFileSync(file!, encodeCheckpoint({ ...c, meta: { ...c.meta, key: "0".repeat(64) } }))
    const r = await dagAwait(box, train(23))
    expect(r.code, r.stderr).toBe(0)
    const log = events(summary(r).run)
    expect(log).toMatch(/discarded the checkpoint .* made for another cache key/)
    expect(log).not.toMatch(/resuming from the checkpoint/)
  }, 240_000)

  it("two runs of the same key at once: both succeed, the second keeps its own checkpoints", async () => {
    const a = dagAwait(box, train(24, 40))
    await waitFor(() => fs.existsSync(scratch) && fs.readdirSync(scratch).some((f) => f.endsWith(".owner")), 120_000, 50)
    const b = await dagAwait(box, train(24, 40))
    const ra = await a
    expect(ra.code, ra.stderr).toBe(0)
    expect(b.code, b.stderr).toBe(0)
    expect(events(summary(b).run) + events(summary(ra).run)).toMatch(/another run .* is computing this node with the same key; this attempt keeps its own checkpoints/)
  }, 300_000)

  it("eval/math with its endpoint down fails (exit 1), is not cached, and computes once the endpoint answers", async () => {
    const withEndpoint = (url: string) => [...train(24, 40), "--param", `eval/math.endpoint=${url}`, "--param", "eval/math.timeoutMs=2000"]
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ choices: [{ text: " The answer is 4." }] }))
      })
    })
    // a port known to be free: the same URL (the same cache key) is used down, then up
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    const port = (server.address() as { port: number }).port
    await new Promise((r) => server.close(r))
    const url = `http://127.0.0.1:${port}/v1`
    const down = await dagAwait(box, withEndpoint(url))
    expect(down.code).toBe(1)
    expect(down.stdout + down.stderr).toContain(`could not be evaluated: the endpoint ${url} is unreachable`)
    expect(down.stdout + down.stderr).toMatch(/nothing was cached/)
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()))
    try {
      const up = await dagAwait(box, withEndpoint(url))
      expect(up.code, up.stderr).toBe(0)
      expect(summary(up).nodes.find((n) => n.node === "eval/math")!.status).toBe("computed")
    } finally {
      server.close()
    }
  }, 120_000)
})
