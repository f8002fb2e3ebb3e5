/**
 * MinHash signatures in TypeScript: words hashed with FNV-1a, word k-grams combined into one 32-bit
 * shingle hash, and K permutations h_i(x) = a_i·x + b_i mod 2^32 (a_i odd, so each is a bijection)
 * of which each signature slot keeps the minimum. Bands hash `rows` consecutive slots together.
 */
import { fmix32 } from "../hashing.js"
import { simdMinHash } from "./minhash-simd.js"

export interface MinHasher {
  readonly permutations: number
  readonly shingle: number
  readonly signature: (text: string) => Uint32Array | undefined
}

/** Deterministic permutation parameters from a seed (splitmix-like), so signatures are reproducible. */
export const minHasher = (permutations = 128, shingle = 5, seed = 1): MinHasher => {
  const a = new Uint32Array(permutations)
  const b = new Uint32Array(permutations)
  let state = seed >>> 0
  const next = () => (state = fmix32((state + 0x9e3779b9) >>> 0))
  for (let i = 0; i < permutations; i++) {
    a[i] = (next() | 1) >>> 0
    b[i] = next()
  }
  // the same loop on WebAssembly SIMD lanes, 16 permutations at a time, where the engine has it
  const simd = process.env.DAG_NO_SIMD ? undefined : simdMinHash(a, b)
  // scratch buffers reused across documents (a hasher serves one thread, one document at a time)
  let wh = new Uint32Array(1024)
  let xs = new Uint32Array(1024)
  const permutation = (sig: Uint32Array, k: number, count: number) => {
    const ak = a[k]!
    const bk = b[k]!
    let min = 0xffffffff
    for (let i = 0; i < count; i++) {
      const v = (Math.imul(ak, xs[i]!) + bk) >>> 0
      if (v < min) min = v
    }
    sig[k] = min
  }
  return {
    permutations,
    shingle,
    signature: (text) => {
      // FNV-1a of each whitespace-separated word of the lowercased text, without allocating the words
      const lower = text.toLowerCase()
      if (wh.length < lower.length / 2 + 1) wh = new Uint32Array(lower.length / 2 + 1)
      let words = 0
      let h = 0x811c9dc5
      let inWord = false
      for (let i = 0; i < lower.length; i++) {
        const c = lower.charCodeAt(i)
        if (isSpace(c)) {
          if (inWord) wh[words++] = h >>> 0
          h = 0x811c9dc5
          inWord = false
        } else {
          h = Math.imul(h ^ c, 0x01000193)
          inWord = true
        }
      }
      if (inWord) wh[words++] = h >>> 0
      if (words < shingle) return undefined
      const count = words - shingle + 1
      if (xs.length < count) xs = new Uint32Array(count)
      for (let i = 0; i < count; i++) {
        let s = 0x811c9dc5
        for (let j = 0; j < shingle; j++) s = Math.imul(s ^ wh[i + j]!, 0x01000193)
        xs[i] = fmix32(s >>> 0)
      }
      const sig = new Uint32Array(permutations)
      let k = 0
      if (simd) {
        simd.run(xs, count, sig)
        k = simd.covered
      }
      // four permutations per pass over the shingles: each shingle hash is loaded once for four
      // multiply-adds, and the eight constants and four minima stay in registers
      for (; k + 4 <= permutations; k += 4) {
        const a0 = a[k]!,
          a1 = a[k + 1]!,
          a2 = a[k + 2]!,
          a3 = a[k + 3]!
        const b0 = b[k]!,
          b1 = b[k + 1]!,
          b2 = b[k + 2]!,
          b3 = b[k + 3]!
        let m0 = 0xffffffff,
          m1 = 0xffffffff,
          m2 = 0xffffffff,
          m3 = 0xffffffff
        for (let i = 0; i < count; i++) {
          const x = xs[i]!
          const v0 = (Math.imul(a0, x) + b0) >>> 0
          const v1 = (Math.imul(a1, x) + b1) >>> 0
          const v2 = (Math.imul(a2, x) + b2) >>> 0
          const v3 = (Math.imul(a3, x) + b3) >>> 0
          if (v0 < m0) m0 = v0
          if (v1 < m1) m1 = v1
          if (v2 < m2) m2 = v2
          if (v3 < m3) m3 = v3
        }
        sig[k] = m0
        sig[k + 1] = m1
        sig[k + 2] = m2
        sig[k + 3] = m3
      }
      for (; k < permutations; k++) permutation(sig, k, count)
      return sig
    },
  }
}

/** The characters JavaScript's `\s` matches (so word splitting agrees with `split(/\s+/)`). */
const isSpace = (c: number): boolean =>
  c <= 32
    ? c === 32 || (c >= 9 && c <= 13)
    : c >= 160 && (c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff)

/** One 32-bit hash per band of `rows` consecutive signature slots. */
export const bandHashes = (sig: Uint32Array, bands: number, rows: number): Uint32Array => {
  const out = new Uint32Array(bands)
  for (let b = 0; b < bands; b++) {
    let h = 0x811c9dc5
    for (let r = 0; r < rows; r++) h = Math.imul(h ^ sig[b * rows + r]!, 0x01000193)
    out[b] = fmix32(h >>> 0)
  }
  return out
}

/** The Jaccard similarity at which a pair becomes a candidate with probability 1/2: (1/b)^(1/r). */
export const bandingThreshold = (bands: number, rows: number): number => (1 / bands) ** (1 / rows)

export const estimatedJaccard = (x: Uint32Array, y: Uint32Array): number => {
  let same = 0
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) same++
  return same / x.length
}
