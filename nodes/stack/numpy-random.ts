/**
 * numpy's legacy `np.random.seed(s); np.random.permutation(n)`, bit for bit: MT19937 seeded as
 * RandomState seeds an integer, bounded draws by masked rejection, and a Fisher–Yates shuffle from
 * the end. AlgebraicStack's splits were made this way (seed 74 for The Stack, 72 for GitHub), so
 * the same inputs in the same order give the released train/validation/test membership.
 */

export class MT19937 {
  private readonly mt = new Uint32Array(624)
  private index = 625

  static seeded(seed: number): MT19937 {
    const r = new MT19937()
    r.initGenrand(seed >>> 0)
    return r
  }

  private initGenrand(s: number): void {
    this.mt[0] = s >>> 0
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30)
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0
    }
    this.index = 624
  }

  nextUint32(): number {
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (this.mt[k]! & 0x80000000) | (this.mt[(k + 1) % 624]! & 0x7fffffff)
        this.mt[k] = this.mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      this.index = 0
    }
    let y = this.mt[this.index++]!
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    return y >>> 0
  }

  /** A uniform integer in [0, max] (numpy's legacy random_interval, for max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0
    let mask = max
    mask |= mask >>> 1
    mask |= mask >>> 2
    mask |= mask >>> 4
    mask |= mask >>> 8
    mask |= mask >>> 16
    let value: number
    do value = (this.nextUint32() & mask) >>> 0
    while (value > max)
    return value
  }
}

/** `np.random.seed(seed); np.random.permutation(n)`. */
export const numpyPermutation = (n: number, seed: number): Array<number> => {
  const rng = MT19937.seeded(seed)
  const out = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = rng.interval(i)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}
