/**
 * dedup/simhash: OpenWebMath's SimHash near-duplicate option with text-dedup's defaults — lowercase
 * character 3-grams, a 64-bit SimHash, duplicates within 3 differing bits, found through 4 blocks of
 * 16 bits in text-dedup; here 20 keys of three of six blocks, which find the same pairs with far fewer
 * random candidates (see SIX_BLOCKS). Fingerprints are
 * computed by a map node on worker threads; candidate pairs, the Hamming check and the components
 * run in DuckDB.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import { fmix32, hash32 } from "../hashing.js"
import { makeDedup } from "./clusters.js"

/**
 * The 64-bit SimHash of a text's character n-grams, as two 32-bit halves [high, low]. Each n-gram's
 * two 32-bit hashes (FNV-1a from two seeds over its UTF-16 units, murmur3's finaliser: hash32 of the
 * n-gram string) are computed from the character codes directly, without slicing out the n-gram.
 */
export const simhash = (text: string, n = 3): readonly [number, number] => {
  const t = text.toLowerCase()
  // ones[b]: how many n-grams have bit b set; the bit is set in the SimHash when that is a majority
  const ones = new Int32Array(64)
  const grams = Math.max(0, t.length - n + 1)
  for (let i = 0; i < grams; i++) {
    let h1 = 0x811c9dc5
    let h2 = 0x9747b28c
    for (let j = 0; j < n; j++) {
      const c = t.charCodeAt(i + j)
      h1 = Math.imul(h1 ^ c, 0x01000193)
      h2 = Math.imul(h2 ^ c, 0x01000193)
    }
    const hi = fmix32(h1 >>> 0)
    const lo = fmix32(h2 >>> 0)
    for (let b = 0; b < 32; b++) {
      ones[b] = ones[b]! + ((hi >>> b) & 1)
      ones[32 + b] = ones[32 + b]! + ((lo >>> b) & 1)
    }
  }
  let hi = 0
  let lo = 0
  for (let b = 0; b < 32; b++) {
    if (2 * ones[b]! > grams) hi |= 1 << b
    if (2 * ones[32 + b]! > grams) lo |= 1 << b
  }
  return [hi >>> 0, lo >>> 0]
}

/** The original definition, slicing each n-gram (kept to check the fast one against). */
export const simhashReference = (text: string, n = 3): readonly [number, number] => {
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

export const SimhashRow = Schema.Struct({ id: Schema.String, hi: Schema.Int, lo: Schema.Int })

export const makeSimhashFingerprints = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.map({
    name,
    version: 1,
    description: "64-bit SimHash of each document's lowercase character n-grams.",
    input: schema,
    output: SimhashRow,
    worker: true,
    params: Schema.Struct({ ngram: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 3 }) }),
    row: (doc, p) => {
      const [hi, lo] = simhash(doc.text, p.ngram)
      return Node.Keep({ id: doc.id, hi, lo })
    },
  })

/**
 * Candidate pairs. Split the 64 bits into six blocks (11, 11, 11, 11, 10, 10 bits): fingerprints
 * within 3 differing bits disagree on at most 3 blocks, so they agree exactly on at least one of the
 * 20 triples of blocks (the pigeonhole argument of Manku et al., WWW 2007). A triple is a ~32-bit
 * key, so unrelated documents almost never share one: candidates grow about linearly with the
 * corpus, where single 16-bit blocks (4 tables) give every document ~n/65,536 random partners.
 * Recall is the same as with 4 blocks: every pair within 3 bits is found.
 */
const SIX_BLOCKS = "[hi >> 21, (hi >> 10) & 2047, ((hi & 1023) << 1) | (lo >> 31), (lo >> 20) & 2047, (lo >> 10) & 1023, lo & 1023]"
const BLOCK_TRIPLES = (() => {
  const out: Array<string> = []
  for (let i = 1; i <= 6; i++) for (let j = i + 1; j <= 6; j++) for (let k = j + 1; k <= 6; k++) out.push(`(${out.length}, ${i}, ${j}, ${k})`)
  return out.join(", ")
})()

export const makeSimhash = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  makeDedup({
    name,
    version: 3,
    description: "SimHash near-duplicates (character 3-grams, 64 bits, ≤ 3 differing bits; candidates from 20 triples of 6 blocks).",
    schema,
    sigSchema: SimhashRow,
    params: Schema.Struct({ maxBitDifference: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3)), { default: () => 3 }) }),
    reason: "near-duplicate",
    sigColumns: "id, hi, lo",
    edges: (sql, p) =>
      sql(`CREATE OR REPLACE TABLE edges AS
        WITH blocks AS (SELECT doc, ${SIX_BLOCKS} AS b FROM sig),
        keys AS (SELECT doc, t, (b[i] << 22) | (b[j] << 11) | b[k] AS key FROM blocks, (VALUES ${BLOCK_TRIPLES}) c(t, i, j, k))
        SELECT a, b, 1 - bits / 64 AS similarity FROM (
          SELECT DISTINCT x.doc AS a, y.doc AS b, bit_count(xor(sx.hi, sy.hi)) + bit_count(xor(sx.lo, sy.lo)) AS bits
          FROM keys x JOIN keys y ON x.t = y.t AND x.key = y.key AND x.doc < y.doc
          JOIN sig sx ON sx.doc = x.doc JOIN sig sy ON sy.doc = y.doc)
        WHERE bits <= ${p.maxBitDifference}`).pipe(Effect.asVoid),
  })
