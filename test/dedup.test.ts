/** MinHash near-duplicate removal: signatures, banding, and the node end to end in DuckDB. */
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { Progress } from "../engine/exec/progress.js"
import * as Node from "../engine/node.js"
import type { StepProgress } from "../engine/node.js"
import * as Pipeline from "../engine/pipeline.js"
import { Store } from "../engine/store/store.js"
import { makeMinhash, makeMinhashSignatures } from "../nodes/dedup/minhash.js"
import { bandHashes, bandingThreshold, estimatedJaccard, minHasher } from "../nodes/dedup/signature.js"
import { runInProcess, tempDir } from "./helpers.js"

const Doc = Schema.Struct({ id: Schema.String, text: Schema.String })

/** Deterministic pseudo-random words. */
const rng = (seed: number) => () => {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
  return seed / 2 ** 32
}
const VOCAB = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`)
const randomDoc = (r: () => number, words: number) => Array.from({ length: words }, () => VOCAB[Math.floor(r() * VOCAB.length)]).join(" ")
/** Replaces `share` of the words: about 1 − share of 5-gram shingles... roughly a Jaccard of 0.8 for share 0.02. */
const edit = (r: () => number, text: string, share: number) =>
  text
    .split(" ")
    .map((w) => (r() < share ? VOCAB[Math.floor(r() * VOCAB.length)] : w))
    .join(" ")

const exactJaccard = (a: string, b: string, k = 5) => {
  const sh = (t: string) => {
    const w = t.split(" ")
    const s = new Set<string>()
    for (let i = 0; i + k <= w.length; i++) s.add(w.slice(i, i + k).join(" "))
    return s
  }
  const x = sh(a)
  const y = sh(b)
  let inter = 0
  for (const s of x) if (y.has(s)) inter++
  return inter / (x.size + y.size - inter)
}

describe("MinHash signatures", () => {
  it("estimate Jaccard similarity and band as documented", () => {
    const r = rng(7)
    const h = minHasher(128, 5)
    const a = randomDoc(r, 300)
    const b = edit(r, a, 0.02)
    const c = randomDoc(r, 300)
    const est = estimatedJaccard(h.signature(a)!, h.signature(b)!)
    expect(Math.abs(est - exactJaccard(a, b))).toBeLessThan(0.12)
    expect(estimatedJaccard(h.signature(a)!, h.signature(c)!)).toBeLessThan(0.05)
    expect(h.signature("too short")).toBeUndefined()
    expect(bandHashes(h.signature(a)!, 16, 8)).toHaveLength(16)
    expect(bandingThreshold(16, 8)).toBeCloseTo(0.707, 2)
  })
})

describe("MinHash on WebAssembly SIMD", () => {
  it("gives the same signatures as the scalar loop, including permutation counts not a multiple of 16", () => {
    const r = rng(11)
    const texts = [randomDoc(r, 300), randomDoc(r, 5), `Tabs\tand\u00a0no-break\u3000spaces ${randomDoc(r, 40)}`, "ÜNICODE İstanbul ΣΑΣ words here now and then"]
    for (const perms of [128, 130, 16, 8]) {
      const simd = minHasher(perms, 5, 3)
      process.env.DAG_NO_SIMD = "1"
      const scalar = minHasher(perms, 5, 3)
      delete process.env.DAG_NO_SIMD
      for (const t of texts) expect(Array.from(simd.signature(t) ?? [])).toEqual(Array.from(scalar.signature(t) ?? []))
    }
    // and both agree with splitting on /\s+/: the words are what a regex split gives
    const h = minHasher(128, 1, 3)
    expect(Array.from(h.signature("a\u2003b")!)).toEqual(Array.from(h.signature("a b")!))
    expect(Array.from(h.signature("a\u2003b")!)).not.toEqual(Array.from(h.signature("ab")!))
  })
})

describe("dedup/minhash (in-process, real DuckDB)", () => {
  const runDedup = async (docs: ReadonlyArray<{ id: string; text: string }>, shards = 3, steps: Array<StepProgress> = []) => {
    const dir = tempDir("minhash")
    const src = Node.source({
      name: "t/docs",
      version: 1,
      output: Doc,
      units: () => Effect.succeed(Array.from({ length: shards }, (_, i) => ({ id: `part-${i}`, fingerprint: `${docs.length}-${i}`, part: i }))),
      read: function* (unit) {
        for (let i = unit.part as number; i < docs.length; i += shards) yield docs[i]!
      },
    })
    const dedup = makeMinhash("t/minhash", Doc)
    const sigs = makeMinhashSignatures("t/signatures", Doc)
    const p = Pipeline.make("minhash-test", (b) => {
      const d = b.add(src)
      return { kept: b.add(dedup, { docs: d, sigs: b.add(sigs, d) }).kept }
    })
    const dirs = { store: path.join(dir, "store"), runs: path.join(dir, "runs") }
    const progress: Progress = { plan: () => {}, start: () => {}, advance: () => {}, end: () => {}, close: () => {}, step: (node, s) => void (node === "t/minhash" && steps.push(s)) }
    const r = await runInProcess(p, dirs, { progress })
    expect(r.ok).toBe(true)
    const store = new Store(dirs.store)
    const outputs = r.record.nodes.find((n) => n.node === "t/minhash")!.outputs
    const { DuckDBInstance } = await import("@duckdb/node-api")
    const conn = await (await DuckDBInstance.create(":memory:")).connect()
    const rows = async (output: string) => {
      const m = store.getArtifact(outputs[output]!)!
      if (m.kind !== "dataset" || m.shards.length === 0) return []
      const files = m.shards.map((s) => `'${store.objectPath(s.hash, ".parquet")}'`).join(", ")
      return (await conn.runAndReadAll(`SELECT * FROM read_parquet([${files}])`)).getRowObjectsJS() as Array<Record<string, unknown>>
    }
    return { kept: await rows("kept"), clusters: await rows("clusters"), dropped: await rows("dropped"), examples: await rows("examples"), log: r.record }
  }

  it("finds the clusters of known edits and keeps the first document of each", async () => {
    const r = rng(11)
    const base = Array.from({ length: 40 }, () => randomDoc(r, 200))
    const docs = base.map((text, i) => ({ id: `d${i}`, text }))
    // d0 ~ e0a ~ e0b (a cluster of three), d1 ~ e1 (a pair), d2 exact copy e2
    docs.push({ id: "e0a", text: edit(r, base[0]!, 0.01) }, { id: "e0b", text: edit(r, base[0]!, 0.01) }, { id: "e1", text: edit(r, base[1]!, 0.01) }, { id: "e2", text: base[2]! })
    docs.push({ id: "tiny", text: "too short" })
    const out = await runDedup(docs, 1) // one shard: input order is list order
    const clusterOf = new Map(out.clusters.map((c) => [c.id as string, c.representative as string]))
    expect(clusterOf.get("e0a")).toBe("d0")
    expect(clusterOf.get("e0b")).toBe("d0")
    expect(clusterOf.get("e1")).toBe("d1")
    expect(clusterOf.get("e2")).toBe("d2")
    expect(out.dropped.map((d) => d.reason).sort()).toEqual(["near-duplicate of d0", "near-duplicate of d0", "near-duplicate of d1", "near-duplicate of d2"])
    expect(out.kept.map((d) => d.id)).toContain("d0")
    expect(out.kept.map((d) => d.id)).toContain("tiny")
    expect(out.kept).toHaveLength(docs.length - 4)
    // kept keeps input order
    expect(out.kept.map((d) => d.id)).toEqual(docs.map((d) => d.id).filter((id) => !["e0a", "e0b", "e1", "e2"].includes(id)))
    // examples: the duplicate pairs side by side, least similar first, with their texts
    expect(out.examples.length).toBeGreaterThanOrEqual(4)
    const sims = out.examples.map((e) => e.similarity as number)
    expect([...sims].sort((a, b) => a - b)).toEqual(sims)
    expect(sims.at(-1)).toBe(1) // the exact copy d2/e2
    const byPair = new Map(out.examples.map((e) => [`${e.first_id}|${e.second_id}`, e]))
    const copy = byPair.get("d2|e2")!
    expect(copy.first_text).toBe(base[2]!.slice(0, 600))
    expect(copy.second_text).toBe(copy.first_text)
    expect(byPair.get("d1|e1")!.similarity as number).toBeLessThan(1)
  })

  it("keeps the kept corpus aligned with input shards and in order across several shards", async () => {
    const r = rng(3)
    const base = Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, text: randomDoc(r, 100) }))
    const docs = [...base, { id: "copy5", text: base[5]!.text }, { id: "copy20", text: base[20]!.text }]
    const steps: Array<StepProgress> = []
    const out = await runDedup(docs, 4, steps)
    expect(out.dropped.map((d) => d.id).sort()).toEqual(["copy20", "copy5"])
    // the live line says which step runs: signatures, pairs, components, clusters, then each kept shard
    expect(steps.map((s) => s.note)).toEqual([
      "loading signatures",
      "candidate pairs and their similarity",
      "connected components",
      "clusters and dropped documents",
      ...[1, 2, 3, 4].map((i) => `kept documents, shard ${i} of 4`),
    ])
    expect(steps.map((s) => s.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(new Set(steps.map((s) => s.total))).toEqual(new Set([8]))
    // input order is shard by shard (the test source deals documents round-robin into 4 shards)
    const inputOrder = [0, 1, 2, 3].flatMap((part) => docs.filter((_, i) => i % 4 === part).map((d) => d.id))
    expect(out.kept.map((d) => d.id)).toEqual(inputOrder.filter((id) => !id.startsWith("copy")))
  })

  it("recalls ≥ 0.97 of planted pairs with Jaccard ≥ 0.7", async () => {
    const r = rng(5)
    const docs: Array<{ id: string; text: string }> = []
    const planted: Array<[string, string]> = []
    for (let i = 0; i < 400; i++) docs.push({ id: `o${i}`, text: randomDoc(r, 300) })
    for (let i = 0; i < 150; i++) {
      const src = docs[i]!
      const copy = { id: `p${i}`, text: edit(r, src.text, 0.012) }
      if (exactJaccard(src.text, copy.text) >= 0.7) planted.push([src.id, copy.id])
      docs.push(copy)
    }
    expect(planted.length).toBeGreaterThan(100)
    const out = await runDedup(docs)
    const rep = new Map(out.clusters.map((c) => [c.id as string, c.representative as string]))
    // a pair is found when both documents landed in one cluster (which of them represents it depends on input order)
    const found = planted.filter(([a, b]) => rep.get(a) !== undefined && rep.get(a) === rep.get(b)).length
    expect(found / planted.length).toBeGreaterThanOrEqual(0.97)
  })
})

describe("dedup/exact and dedup/simhash", () => {
  const run = async (make: "exact" | "simhash", docs: ReadonlyArray<{ id: string; text: string }>) => {
    const { makeExactDedup, makeExactHashes } = await import("../nodes/dedup/exact.js")
    const { makeSimhash, makeSimhashFingerprints } = await import("../nodes/dedup/simhash.js")
    const dir = tempDir(make)
    const src = Node.source({
      name: "t/docs",
      version: 1,
      output: Doc,
      units: () => Effect.succeed([{ id: "all", fingerprint: String(docs.length) }]),
      read: function* () {
        yield* docs
      },
    })
    const p = Pipeline.make("dedup-test", (b) => {
      const docs = b.add(src)
      return make === "exact"
        ? { kept: b.add(makeExactDedup("t/dedup", Doc), { docs, sigs: b.add(makeExactHashes("t/values", Doc), docs) }).kept }
        : { kept: b.add(makeSimhash("t/dedup", Doc), { docs, sigs: b.add(makeSimhashFingerprints("t/values", Doc), docs) }).kept }
    })
    const r = await runInProcess(p, { store: path.join(dir, "store"), runs: path.join(dir, "runs") })
    expect(r.ok).toBe(true)
    return r.record.nodes.find((n) => n.node === "t/dedup")!
  }
  it("exact: same normalised text is a duplicate, first copy wins", async () => {
    const n = await run("exact", [
      { id: "a", text: "The  Same\ntext" },
      { id: "b", text: "the same text " },
      { id: "c", text: "other text" },
    ])
    expect(n.dropped).toEqual({ "exact-duplicate": 1 })
  })
  it("simhash: a few changed characters in a long text are within 3 bits; different texts are not", async () => {
    const { hamming, simhash } = await import("../nodes/dedup/simhash.js")
    const { readFileSync } = await import("node:fs")
    const { ROOT } = await import("./helpers.js")
    const base = readFileSync(path.join(ROOT, "samples/demo/primes.txt"), "utf8")
    const other = readFileSync(path.join(ROOT, "samples/demo/geometry.txt"), "utf8")
    const near = base.replace("whole number", "natural number")
    const { simhashReference } = await import("../nodes/dedup/simhash.js")
    for (const t of [base, near, other, "", "ab", "ÜNICODE ΣΑΣ 😀 text"]) expect(simhash(t)).toEqual(simhashReference(t))
    expect(hamming(simhash(base), simhash(near))).toBeLessThanOrEqual(3)
    expect(hamming(simhash(base), simhash(other))).toBeGreaterThan(3)
    const n = await run("simhash", [
      { id: "a", text: base },
      { id: "b", text: near },
      { id: "c", text: other },
    ])
    expect(n.dropped).toEqual({ "near-duplicate": 1 })
  })
})
