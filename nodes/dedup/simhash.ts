/**
 * dedup/simhash: OpenWebMath's SimHash near-duplicate option with text-dedup's defaults — lowercase
 * character 3-grams, a 64-bit SimHash, duplicates within 3 differing bits, found through 4 blocks of
 * 16 bits (two fingerprints within 3 bits agree exactly on at least one block). Candidate pairs,
 * the Hamming check and the components run in DuckDB.
 */
import { Schema } from "effect"
import { hash32 } from "../hashing.js"
import { makeDedupNode } from "./clusters.js"

/** The 64-bit SimHash of a text's character n-grams, as two 32-bit halves [high, low]. */
export const simhash = (text: string, n = 3): readonly [number, number] => {
  const t = text.toLowerCase()
  const weights = new Int32Array(64)
  for (let i = 0; i + n <= t.length; i++) {
    const g = t.slice(i, i + n)
    const hi = hash32(g, 0x811c9dc5)
    const lo = hash32(g, 0x9747b28c)
    for (let b = 0; b < 32; b++) {
      weights[b] = weights[b]! + ((hi >>> b) & 1 ? 1 : -1)
      weights[32 + b] = weights[32 + b]! + ((lo >>> b) & 1 ? 1 : -1)
    }
  }
  let hi = 0
  let lo = 0
  for (let b = 0; b < 32; b++) {
    if (weights[b]! > 0) hi |= 1 << b
    if (weights[32 + b]! > 0) lo |= 1 << b
  }
  return [hi >>> 0, lo >>> 0]
}

export const hamming = (a: readonly [number, number], b: readonly [number, number]): number => {
  const pop = (x: number) => {
    let c = 0
    for (; x; x &= x - 1) c++
    return c
  }
  return pop((a[0] ^ b[0]) >>> 0) + pop((a[1] ^ b[1]) >>> 0)
}

export const makeSimhash = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  makeDedupNode({
    name,
    description: "SimHash near-duplicates (character 3-grams, 64 bits, ≤ 3 differing bits, 4 blocks).",
    schema,
    params: Schema.Struct({
      ngram: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 3 }),
      maxBitDifference: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3)), { default: () => 3 }),
    }),
    reason: "near-duplicate",
    columns: { hi: "BIGINT", lo: "BIGINT" },
    values: (doc, p) => simhash(doc.text, p.ngram),
    edges: (p) => `WITH blocks AS (SELECT doc, unnest([0, 1, 2, 3]) AS blk, unnest([hi >> 16, hi & 65535, lo >> 16, lo & 65535]) AS v FROM sig)
      SELECT DISTINCT x.doc AS a, y.doc AS b FROM blocks x JOIN blocks y ON x.blk = y.blk AND x.v = y.v AND x.doc < y.doc
      JOIN sig sx ON sx.doc = x.doc JOIN sig sy ON sy.doc = y.doc
      WHERE bit_count(xor(sx.hi, sy.hi)) + bit_count(xor(sx.lo, sy.lo)) <= ${p.maxBitDifference}`,
  })
