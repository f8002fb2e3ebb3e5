/**
 * dedup/minhash: near-duplicate removal over any dataset with `id` and `text`. Signatures come from a
 * map node (worker threads, cached per shard; nodes/dedup/signature.ts) and are appended to DuckDB, one
 * row per document; banding, candidate
 * pairs, the estimated-Jaccard check and connected components (min-label propagation) run in DuckDB
 * SQL, which spills to disk, so memory stays bounded. Each component keeps its first document in input
 * order; the others are dropped as near-duplicates of it.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import { makeDedup } from "./clusters.js"
import { bandHashes, minHasher } from "./signature.js"

/**
 * One document's MinHash signature (hex, 8 characters per slot; empty when it is too short) and its
 * band hashes (hex, 8 characters per band). Strings, because DuckDB's appender takes them fastest.
 */
export const Signature = Schema.Struct({ id: Schema.String, sig: Schema.String, bands: Schema.String })

const SignatureParams = Schema.Struct({
  shingle: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 5 }),
  permutations: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 128 }),
  bands: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 }),
  rows: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 8 }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 1 }),
})

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** 8 hex characters per 32-bit value (a table lookup per byte: this runs 128 times per document). */
const hex = (values: Uint32Array) => {
  let s = ""
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    s += BYTE_HEX[v >>> 24]! + BYTE_HEX[(v >>> 16) & 255]! + BYTE_HEX[(v >>> 8) & 255]! + BYTE_HEX[v & 255]!
  }
  return s
}

/**
 * The signature step: a map node, so signatures are computed on worker threads, shard by shard, and
 * cached per shard like any map output. One output row per input row, in order.
 */
export const makeMinhashSignatures = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.map({
    name,
    version: 1,
    description: "MinHash signatures and band hashes (word shingles, multiply-shift permutations).",
    input: schema,
    output: Signature,
    worker: true,
    params: SignatureParams,
    setup: async (p) => {
      if (p.bands * p.rows > p.permutations) throw new Error(`bands × rows (${p.bands * p.rows}) exceeds permutations (${p.permutations})`)
      return minHasher(p.permutations, p.shingle, p.seed)
    },
    row: (doc, p, hasher) => {
      const sig = hasher.signature(doc.text)
      return Node.Keep(sig ? { id: doc.id, sig: hex(sig), bands: hex(bandHashes(sig, p.bands, p.rows)) } : { id: doc.id, sig: "", bands: "" })
    },
  })

export const makeMinhash = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  makeDedup({
    name,
    version: 3,
    description: "MinHash near-duplicate removal: signatures in TypeScript, banding and components in DuckDB.",
    schema,
    sigSchema: Signature,
    params: Schema.Struct({
      /** estimated Jaccard a candidate pair needs to count as a duplicate */
      threshold: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.7 }),
    }),
    reason: "near-duplicate",
    sigColumns: "id, nullif(sig, '') AS sig, nullif(bands, '') AS bands",
    edges: (sql, p, log) =>
      Effect.gen(function* () {
        const [dims] = (yield* sql(
          `SELECT count(*) FILTER (WHERE sig IS NULL)::BIGINT AS short, coalesce(max(strlen(sig)), 0)::BIGINT / 8 AS slots, coalesce(max(strlen(bands)), 0)::BIGINT / 8 AS bands FROM sig`
        )) as Array<{ short: number; slots: number; bands: number }>
        if (dims?.short) log(`${dims.short} documents are too short for a signature: kept, never compared`)
        // one row per (document, band); documents sharing a band hash become candidate pairs
        yield* sql(`CREATE OR REPLACE TABLE candidates AS
          WITH b AS (SELECT doc, i AS band, substr(bands, i * 8 + 1, 8) AS h FROM sig, range(${dims?.bands ?? 0}) r(i) WHERE sig IS NOT NULL)
          SELECT DISTINCT x.doc AS a, y.doc AS b FROM b x JOIN b y ON x.band = y.band AND x.h = y.h AND x.doc < y.doc`)
        // estimated Jaccard = the share of equal slots; two unnests in one SELECT walk both signatures side by side
        yield* sql(`CREATE OR REPLACE TABLE edges AS
          WITH slots AS (SELECT c.a, c.b, unnest(regexp_extract_all(x.sig, '.{8}')) AS xv, unnest(regexp_extract_all(y.sig, '.{8}')) AS yv
                         FROM candidates c JOIN sig x ON x.doc = c.a JOIN sig y ON y.doc = c.b)
          SELECT a, b, count(*) FILTER (WHERE xv = yv) / count(*) AS similarity FROM slots GROUP BY a, b HAVING similarity >= ${p.threshold}`)
      }),
  })
