/** Small, fast 32-bit hashes shared by the dedup and overlap nodes (FNV-1a over UTF-16 units, murmur3's finaliser). */

export const fmix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** FNV-1a of a string from `seed` (the FNV offset basis by default). */
export const fnv1a = (s: string, seed = 0x811c9dc5): number => {
  let h = seed
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/** A well-mixed 32-bit hash of a string; different seeds give independent hashes. */
export const hash32 = (s: string, seed = 0x811c9dc5): number => fmix32(fnv1a(s, seed))
