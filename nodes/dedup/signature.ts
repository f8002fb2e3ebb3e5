/**
 * MinHash signatures in TypeScript: words hashed with FNV-1a, word k-grams combined into one 32-bit
 * shingle hash, and K permutations h_i(x) = a_i·x + b_i mod 2^32 (a_i odd, so each is a bijection)
 * of which each signature slot keeps the minimum. Bands hash `rows` consecutive slots together.
 */
import { fmix32, fnv1a } from "../hashing.js"

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
  return {
    permutations,
    shingle,
    signature: (text) => {
      const words = text.toLowerCase().split(/\s+/).filter(Boolean)
      if (words.length < shingle) return undefined
      const wh = new Uint32Array(words.length)
      for (let i = 0; i < words.length; i++) wh[i] = fnv1a(words[i]!)
      const count = words.length - shingle + 1
      const xs = new Uint32Array(count)
      for (let i = 0; i < count; i++) {
        let h = 0x811c9dc5
        for (let j = 0; j < shingle; j++) h = Math.imul(h ^ wh[i + j]!, 0x01000193)
        xs[i] = fmix32(h >>> 0)
      }
      // permutation-major: the inner loop runs over a flat array with two constants, which the JIT keeps in registers
      const sig = new Uint32Array(permutations)
      for (let k = 0; k < permutations; k++) {
        const ak = a[k]!
        const bk = b[k]!
        let min = 0xffffffff
        for (let i = 0; i < count; i++) {
          const v = (Math.imul(ak, xs[i]!) + bk) >>> 0
          if (v < min) min = v
        }
        sig[k] = min
      }
      return sig
    },
  }
}

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
