/** The engine in-process, with real DuckDB and files and test Layers for executor and progress. */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { NodeRunError } from "../engine/errors.js"
import { inlineExecutor, type Executor } from "../engine/exec/pool.js"
import type { Progress } from "../engine/exec/progress.js"
import { runMapShard } from "../engine/exec/shard.js"
import * as Node from "../engine/node.js"
import * as Pipeline from "../engine/pipeline.js"
import { Store } from "../engine/store/store.js"
import { listFiles } from "../nodes/files.js"
import { runInProcess, tempDir } from "./helpers.js"

const Line = Schema.Struct({ id: Schema.String, text: Schema.String })

const makeSource = (dir: string) =>
  Node.source({
    name: "e/lines",
    version: 1,
    output: Line,
    units: () => listFiles("e/lines", path.join(dir, "*.txt")),
    read: function* (unit) {
      const lines = fs
        .readFileSync(unit.file as string, "utf8")
        .split("\n")
        .filter(Boolean)
      for (const [i, text] of lines.entries()) yield { id: `${unit.id}:${i}`, text }
    },
  })

const makeUpper = (version: number, fail?: string) =>
  Node.map({
    name: "e/upper",
    version,
    input: Line,
    output: Line,
    worker: true, // routed to the ShardExecutor service (swapped in tests)
    row: (r) => {
      if (fail && r.text.includes(fail)) throw new Error(`cannot handle ${fail}`)
      return r.text.startsWith("#") ? Node.Drop("comment") : Node.Keep({ ...r, text: r.text.toUpperCase() })
    },
  })

const count = Node.global({
  name: "e/count",
  version: 1,
  inputs: { lines: Node.Dataset(Line) },
  outputs: { total: Node.Dataset(Schema.Struct({ n: Schema.Int })) },
  run: (ctx) => ctx.outputs.total.writeQuery(`SELECT count(*)::BIGINT AS n FROM lines`),
})

const setup = (files = 4) => {
  const dir = tempDir("engine")
  const input = path.join(dir, "in")
  fs.mkdirSync(input)
  for (let i = 0; i < files; i++) fs.writeFileSync(path.join(input, `f${i}.txt`), `# header ${i}\nline a of ${i}\nline b of ${i}\n`)
  return { input, dirs: { store: path.join(dir, "store"), runs: path.join(dir, "runs") } }
}

const pipelineOf = (input: string, version = 1, fail?: string) =>
  Pipeline.make("engine-test", (p) => {
    const lines = p.add(makeSource(input))
    const upper = p.add(makeUpper(version, fail), lines)
    const { total } = p.add(count, { lines: upper })
    return { total }
  })

const node = (record: { nodes: ReadonlyArray<{ node: string }> }, name: string) =>
  record.nodes.find((n) => n.node === name) as never as {
    status: string
    shards: { total: number; cached: number; computed: number }
    causes: Array<{ category: string; detail: string }>
    rows: { in: number; out: number }
    dropped: Record<string, number>
    errors: Array<string>
    shardLog: Array<{ attempts: number; status: string; inputs: ReadonlyArray<string> }>
  }

describe("engine (in-process, real DuckDB)", () => {
  it("computes, then hits the cache on a re-run", async () => {
    const { input, dirs } = setup()
    const first = await runInProcess(pipelineOf(input), dirs)
    expect(first.ok).toBe(true)
    expect(node(first.record, "e/upper")).toMatchObject({ status: "computed", shards: { total: 4, computed: 4 }, rows: { in: 12, out: 8 }, dropped: { comment: 4 } })
    // the re-run settles every node in its first pass, with no node left for the scheduler, even
    // though listing the source's files is asynchronous
    let scheduled = -1
    const progress: Progress = { plan: (n) => void (scheduled = n), start: () => {}, advance: () => {}, end: () => {}, close: () => {} }
    const second = await runInProcess(pipelineOf(input), dirs, { progress })
    expect(second.record.nodes.map((n) => n.status)).toEqual(["cached", "cached", "cached"])
    expect(scheduled).toBe(0)
  })

  it("recomputes exactly one shard when one input file changes", async () => {
    const { input, dirs } = setup()
    await runInProcess(pipelineOf(input), dirs)
    fs.appendFileSync(path.join(input, "f2.txt"), "line c of 2\n")
    const r = await runInProcess(pipelineOf(input), dirs)
    expect(node(r.record, "e/lines")).toMatchObject({ status: "partial", shards: { total: 4, cached: 3, computed: 1 } })
    expect(node(r.record, "e/upper")).toMatchObject({ status: "partial", shards: { total: 4, cached: 3, computed: 1 }, rows: { out: 9 } })
    expect(node(r.record, "e/upper").causes[0]?.category).toBe("DATA")
    expect(node(r.record, "e/count").status).toBe("computed")
  })

  it("a version bump recomputes the node with a CODE cause, and not its upstream", async () => {
    const { input, dirs } = setup()
    await runInProcess(pipelineOf(input, 1), dirs)
    const r = await runInProcess(pipelineOf(input, 2), dirs)
    expect(node(r.record, "e/lines").status).toBe("cached")
    expect(node(r.record, "e/upper").status).toBe("computed")
    expect(node(r.record, "e/upper").causes).toContainEqual({ category: "CODE", detail: "version 1 → 2" })
    // same output bytes → the consumer's key is unchanged (early cut-off)
    expect(node(r.record, "e/count").status).toBe("cached")
  })

  it("retries a transient shard failure and records the attempts (flaky executor Layer)", async () => {
    const { input, dirs } = setup(2)
    let calls = 0
    const flaky: Executor = {
      name: "flaky-test",
      slots: 1,
      runMapShard: (task) =>
        Effect.suspend(() =>
          ++calls === 1
            ? Effect.fail(new NodeRunError({ node: task.node.name, message: "worker thread died: simulated", transient: true }))
            : Effect.tryPromise({
                try: () => runMapShard(task.node, task.params, task.inputPath, task.tmpPath),
                catch: (e) => new NodeRunError({ node: task.node.name, message: String(e), transient: false }),
              })
        ),
      runSourceShard: inlineExecutor(1).runSourceShard,
    }
    const r = await runInProcess(pipelineOf(input), dirs, { executor: flaky })
    expect(r.ok).toBe(true)
    expect(
      node(r.record, "e/upper")
        .shardLog.map((s) => s.attempts)
        .sort()
    ).toEqual([1, 2])
  })

  it("a failing row function fails its node with the row named, skips dependents, and caches nothing bad", async () => {
    const { input, dirs } = setup(3)
    const r = await runInProcess(pipelineOf(input, 1, "of 1"), dirs, { retries: 0 })
    expect(r.ok).toBe(false)
    expect(node(r.record, "e/upper").status).toBe("failed")
    expect(node(r.record, "e/upper").errors.join(" ")).toMatch(/row function threw on row 2 \(id .*f1\.txt:1\): cannot handle of 1/)
    expect(node(r.record, "e/count").status).toBe("skipped")
    // the good shards were committed and are reused once the bug is fixed
    const fixed = await runInProcess(pipelineOf(input, 1), dirs)
    expect(node(fixed.record, "e/upper").shards).toMatchObject({ cached: 2, computed: 1 })
  })

  it("detects a corrupt input shard, recomputes its producer, and goes on", async () => {
    const { input, dirs } = setup()
    const first = await runInProcess(pipelineOf(input), dirs)
    const store = new Store(dirs.store)
    const upperOut = node(first.record, "e/upper") as unknown as { outputs: Record<string, string> }
    const manifest = store.getArtifact(upperOut.outputs.out!)!
    if (manifest.kind !== "dataset") throw new Error("expected a dataset")
    const victim = store.objectPath(manifest.shards[1]!.hash, ".parquet")
    const original = fs.readFileSync(victim)
    const bytes = Buffer.from(original)
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff // same size, different content
    fs.writeFileSync(victim, bytes)
    const r = await runInProcess(pipelineOf(input), dirs, { force: ["e/count"] })
    expect(r.ok).toBe(true)
    expect(node(r.record, "e/upper").shards).toMatchObject({ computed: 1 })
    expect(node(r.record, "e/count").errors.join(" ")).toMatch(/corrupt/)
    // the repaired shard has the original content again
    expect(fs.readFileSync(victim).equals(original)).toBe(true)
  })

  it("stores identical outputs once", async () => {
    const { input, dirs } = setup(2)
    const twin = Node.map({ name: "e/twin", version: 1, input: Line, output: Line, row: (r) => Node.Keep({ ...r, text: r.text.toUpperCase() }) })
    const p = Pipeline.make("twins", (b) => {
      const lines = b.add(makeSource(input))
      return { a: b.add(makeUpper(1), lines), b: b.add(twin, lines) }
    })
    const r = await runInProcess(p, dirs)
    const a = node(r.record, "e/upper") as unknown as { outputs: Record<string, string> }
    const b = node(r.record, "e/twin") as unknown as { outputs: Record<string, string> }
    expect(a.outputs.out).not.toBe(b.outputs.out) // e/twin keeps the comment lines
    const objects = fs.readdirSync(path.join(dirs.store, "objects"), { recursive: true }).filter((f) => String(f).endsWith(".parquet"))
    expect(objects.length).toBeLessThanOrEqual(6)
  })
})
