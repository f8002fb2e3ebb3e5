/**
 * Integrity on every read: damaged shards are caught by whoever reads them (dag sql, dag export,
 * downstream nodes), moved to quarantine/ and recomputed by the next run; damaged metadata reads
 * as missing with one warning; `dag doctor` checks and repairs the whole store.
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Store } from "../engine/store/store.js"
import { dagAwait, demoInputs, readRunRecord, sandbox, summary, type Sandbox } from "./helpers.js"

const wordsShards = (box: Sandbox, runId: string): Array<{ hash: string; bytes: number }> => {
  const id = readRunRecord(box, runId).nodes.find((n) => n.node === "demo/words")!.outputs.out!
  return JSON.parse(fs.readFileSync(path.join(box.store, "artifacts", id.slice(0, 2), `${id}.json`), "utf8")).shards
}
const objectFile = (box: Sandbox, hash: string) => path.join(box.store, "objects", hash.slice(0, 2), `${hash}.parquet`)
const flip = (buf: Buffer, offset: number, bit: number) => {
  const copy = Buffer.from(buf)
  copy[offset] = copy[offset]! ^ (1 << bit)
  return copy
}
const QUERY = "select word, count(*) as n from demo_words group by word order by n desc, word"

describe("integrity on every read", () => {
  it("every single-bit flip in a shard is caught by the read check, at every offset tried", async () => {
    const box = sandbox("flip-unit")
    const first = summary(await dagAwait(box, ["run", "demo", "--json"]))
    const [shard] = wordsShards(box, first.run)
    const file = objectFile(box, shard!.hash)
    const original = fs.readFileSync(file)
    const sidecar = fs.readFileSync(`${file}.xxh64`)
    let caught = 0
    const offsets = Array.from({ length: 120 }, (_, i) => Math.floor((i * original.length) / 120))
    for (const [i, offset] of offsets.entries()) {
      fs.writeFileSync(file, flip(original, offset, i % 8))
      fs.writeFileSync(`${file}.xxh64`, sidecar)
      const store = new Store(box.store) // a fresh reader: nothing verified in this process yet
      const r = await Effect.runPromise(Effect.either(store.verifyObject(shard!.hash, ".parquet")))
      if (Either.isLeft(r)) caught++
      expect(Either.isLeft(r) && r.left.message).toMatch(/was corrupt .* moved to .*quarantine/)
      // put the good bytes back for the next trial (the bad ones went to quarantine/)
      fs.writeFileSync(file, original)
    }
    expect(caught).toBe(offsets.length)
    expect(fs.readdirSync(path.join(box.store, "quarantine")).filter((f) => f.endsWith(".why.json")).length).toBe(offsets.length)
  }, 60_000)

  it("dag sql never returns altered rows: it errors, names what it did, and the next run repairs the shard", async () => {
    const box = sandbox("flip-sql")
    const first = summary(await dagAwait(box, ["run", "demo", "--json"]))
    const good = await dagAwait(box, ["sql", QUERY, "--format", "csv"])
    expect(good.code, good.stderr).toBe(0)
    const shards = wordsShards(box, first.run)
    for (const [i, shard] of shards.entries()) {
      const file = objectFile(box, shard.hash)
      const original = fs.readFileSync(file)
      fs.writeFileSync(file, flip(original, Math.floor(original.length * (0.2 + 0.2 * i)), i))
      const r = await dagAwait(box, ["sql", QUERY, "--format", "csv"])
      expect(r.stdout).not.toContain("word,n") // no rows at all
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(new RegExp(`shard ${shard.hash.slice(0, 12)} was corrupt.*moved to .*quarantine.*next run recomputes it`))
      expect(fs.existsSync(file)).toBe(false)
      const rerun = summary(await dagAwait(box, ["run", "demo", "--json"]))
      expect(rerun.nodes.find((n) => n.node === "demo/words")!.shards.computed).toBe(1)
      expect(fs.readFileSync(file).equals(original)).toBe(true)
      expect((await dagAwait(box, ["sql", QUERY, "--format", "csv"])).stdout).toBe(good.stdout)
    }
  }, 120_000)

  it("dag export refuses a corrupt shard and says truthfully where it went; the next run recomputes it", async () => {
    const box = sandbox("flip-export")
    const first = summary(await dagAwait(box, ["run", "demo", "--json"]))
    const [shard] = wordsShards(box, first.run)
    const file = objectFile(box, shard!.hash)
    fs.writeFileSync(file, flip(fs.readFileSync(file), 40, 3))
    const out = path.join(box.dir, "export")
    const r = await dagAwait(box, ["export", "demo/words", "--out", out])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/was corrupt .* moved to (\S+quarantine\S+)/)
    const moved = /moved to (\S+)/.exec(r.stderr)![1]!
    expect(fs.existsSync(moved)).toBe(true) // kept for inspection, not deleted
    expect(fs.existsSync(file)).toBe(false)
    expect(fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.endsWith(".parquet")) : []).toEqual([])
    const rerun = summary(await dagAwait(box, ["run", "demo", "--json"]))
    expect(rerun.nodes.find((n) => n.node === "demo/words")!.shards.computed).toBe(1)
    expect((await dagAwait(box, ["export", "demo/words", "--out", out])).code).toBe(0)
  }, 60_000)

  it("a downstream node reading a corrupt cached shard quarantines it, recomputes the producer, and the run succeeds", async () => {
    const box = sandbox("flip-run")
    const paths = demoInputs(box)
    const p = ["--param", `demo/read.paths=${paths}`, "--json"]
    const first = summary(await dagAwait(box, ["run", "demo", ...p]))
    const [shard] = wordsShards(box, first.run)
    const file = objectFile(box, shard!.hash)
    const original = fs.readFileSync(file)
    fs.writeFileSync(file, flip(original, 60, 5))
    // a param change of the consumer makes it read the (cached) words shards again
    const r = await dagAwait(box, ["run", "demo", ...p, "--param", "demo/top-words.limit=7"])
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readFileSync(file).equals(original)).toBe(true)
    expect(fs.readdirSync(path.join(box.store, "quarantine")).some((f) => f.includes(shard!.hash))).toBe(true)
  }, 60_000)
})

describe("damaged metadata", () => {
  const keyOf = (box: Sandbox, run: string, node: string) => readRunRecord(box, run).nodes.find((n) => n.node === node)!
  // each kind of file, and a command that reads it
  const kinds: Array<[string, (box: Sandbox, run: string) => string, (box: Sandbox, inputs: string) => Array<string>]> = [
    [
      "a node key record",
      (box, run) => {
        // without the index, planning reads each node's key record
        fs.rmSync(path.join(box.store, "index", "demo.json"))
        return path.join(box.store, "keys", keyOf(box, run, "demo/words").key!.slice(0, 2), `${keyOf(box, run, "demo/words").key}.json`)
      },
      (_, inputs) => ["run", "demo", "--param", `demo/read.paths=${inputs}`],
    ],
    [
      "a shard key record",
      (box, run) => {
        const k = keyOf(box, run, "demo/clean").shardLog[0]!.key
        return path.join(box.store, "keys", k.slice(0, 2), `${k}.json`)
      },
      // one more input file: demo/clean misses as a node and looks up its old shards one by one
      (box) => ["run", "demo", "--param", `demo/read.paths=${demoInputs(box, 1)}`],
    ],
    [
      "a manifest",
      (box, run) => {
        const id = keyOf(box, run, "demo/top-words").outputs.top!
        return path.join(box.store, "artifacts", id.slice(0, 2), `${id}.json`)
      },
      (_, inputs) => ["run", "demo", "--param", `demo/read.paths=${inputs}`],
    ],
    ["a ref", (box) => path.join(box.store, "refs", "demo__words.json"), () => ["why", "demo/words", "--pipeline", "demo"]],
    ["the pipeline index", (box) => path.join(box.store, "index", "demo.json"), (_, inputs) => ["run", "demo", "--param", `demo/read.paths=${inputs}`]],
    ["the fingerprint cache", (box) => path.join(box.store, "fingerprints.json"), (_, inputs) => ["run", "demo", "--param", `demo/read.paths=${inputs}`]],
    ["the last run's journal", (box) => path.join(box.runs, fs.readdirSync(box.runs).sort().at(-1)!, "run.json"), () => ["status"]],
  ]
  for (const [kind, locate, reader] of kinds) {
    for (const [how, garbage] of [
      ["not JSON", '{"trunc'],
      ["JSON of the wrong shape", '{"kind":"dataset","shards":7}'],
    ] as const) {
      it(`${kind}, ${how}: one warning naming the file, the command succeeds, results unchanged, repaired after`, async () => {
        const box = sandbox("meta")
        const inputs = demoInputs(box)
        // inputs older than a few seconds, so that their fingerprints are cached
        for (const f of fs.readdirSync(path.dirname(inputs))) fs.utimesSync(path.join(path.dirname(inputs), f), new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000))
        const first = summary(await dagAwait(box, ["run", "demo", "--param", `demo/read.paths=${inputs}`, "--json"]))
        await dagAwait(box, ["run", "demo", "--param", `demo/read.paths=${inputs}`])
        const before = (await dagAwait(box, ["sql", QUERY, "--format", "csv"])).stdout
        const file = locate(box, first.run)
        expect(fs.existsSync(file)).toBe(true)
        fs.writeFileSync(file, garbage)
        const args = reader(box, inputs)
        const r = await dagAwait(box, args)
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).not.toMatch(/internal error|SyntaxError/)
        expect(r.stderr).toContain(`warning: ${file} is damaged`)
        expect(r.stderr.split("\n").filter((l) => l.includes(file)).length).toBe(1)
        const grew = fs.readdirSync(path.dirname(inputs)).some((f) => f.startsWith("gen-")) // the shard-record case adds an input
        if (args[0] === "run" && !grew) expect((await dagAwait(box, ["sql", QUERY, "--format", "csv"])).stdout).toBe(before)
        // repaired (or no longer in the way): the same command again warns about nothing
        expect((await dagAwait(box, ["run", "demo", "--param", `demo/read.paths=${inputs}`])).code).toBe(0)
        const again = await dagAwait(box, args)
        expect(again.code).toBe(0)
        expect(again.stderr).not.toMatch(/warning/)
      }, 60_000)
    }
  }

  it("dag doctor finds a flipped shard, a damaged manifest and a damaged run journal, moves them aside, and the next run repairs", async () => {
    const box = sandbox("doctor")
    const first = summary(await dagAwait(box, ["run", "demo", "--json"]))
    expect((await dagAwait(box, ["doctor"])).stdout).toMatch(/the store is healthy/)
    const second = summary(await dagAwait(box, ["run", "demo", "--json"]))
    const [shard] = wordsShards(box, first.run)
    const file = objectFile(box, shard!.hash)
    fs.writeFileSync(file, flip(fs.readFileSync(file), 80, 1))
    const id = readRunRecord(box, first.run).nodes.find((n) => n.node === "demo/top-words")!.outputs.top!
    const manifest = path.join(box.store, "artifacts", id.slice(0, 2), `${id}.json`)
    fs.writeFileSync(manifest, JSON.stringify({ kind: "file", extension: "txt", hash: "00".repeat(32), bytes: 1 })) // valid shape, wrong content
    fs.writeFileSync(path.join(box.runs, second.run, "run.json"), "[]")
    const r = await dagAwait(box, ["doctor", "--json"])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as { findings: Array<{ file: string; problem: string; action: string }> }
    expect(report.findings.map((f) => f.file)).toEqual(expect.arrayContaining([file, manifest, path.join(box.runs, second.run, "run.json")]))
    expect(report.findings.find((f) => f.file === manifest)!.problem).toMatch(/does not hash to its name/)
    expect(fs.readdirSync(path.join(box.store, "quarantine")).filter((f) => !f.endsWith(".why.json")).length).toBe(3)
    expect((await dagAwait(box, ["run", "demo"])).code).toBe(0)
    const after = await dagAwait(box, ["doctor"])
    expect(after.code, after.stdout).toBe(0)
    expect(after.stdout).toMatch(/the store is healthy/)
  }, 60_000)
})
