/**
 * The MinHash inner loop as a tiny WebAssembly SIMD module, assembled here from its opcodes (no
 * toolchain needed). For 16 permutations at a time it keeps four i32x4 lanes of minima and, for each
 * shingle hash x, computes a·x + b (mod 2^32) and an unsigned min in four lanes at once; the same
 * arithmetic as the scalar loop in signature.ts, so signatures are identical, about 3-4× faster.
 * Returns undefined where the engine lacks WebAssembly SIMD; callers then use the scalar loop.
 */

const uleb = (n: number): Array<number> => {
  const out: Array<number> = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

const vec = (items: Array<Array<number>>): Array<number> => [...uleb(items.length), ...items.flat()]
const section = (id: number, body: Array<number>): Array<number> => [id, ...uleb(body.length), ...body]
const name = (s: string): Array<number> => [...uleb(s.length), ...Buffer.from(s, "utf8")]

// opcodes (WebAssembly core and SIMD specifications)
const I32 = 0x7f
const V128 = 0x7b
const get = (i: number) => [0x20, ...uleb(i)]
const set = (i: number) => [0x21, ...uleb(i)]
const i32const = (n: number) => [0x41, ...uleb(n)] // small non-negative constants only
const simd = (op: number) => [0xfd, ...uleb(op)]
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)]
const v128load = (offset: number) => [...simd(0x00), ...memarg(4, offset)]
const v128store = (offset: number) => [...simd(0x0b), ...memarg(4, offset)]
const load32splat = [...simd(0x09), ...memarg(2, 0)]
const i32x4add = simd(0xae)
const i32x4mul = simd(0xb5)
const i32x4minU = simd(0xb7)
const allOnes = [...simd(0x0c), ...new Array(16).fill(0xff)]
const [i32add, i32shl, i32geU, block, loop, brIf, br, end] = [[0x6a], [0x74], [0x4f], [0x02, 0x40], [0x03, 0x40], (d: number) => [0x0d, d], (d: number) => [0x0c, d], [0x0b]]

// params: 0 aPtr, 1 bPtr, 2 sigPtr, 3 xsPtr, 4 groups (of 16 permutations), 5 count (shingles)
// locals: 6 g, 7 p, 8 end, 9 off, 10-13 a lanes, 14-17 b lanes, 18-21 minima, 22 x
const [G, P, END, OFF, A, B, M, X] = [6, 7, 8, 9, 10, 14, 18, 22]
const body: Array<number> = [
  ...vec([
    [4, I32],
    [13, V128],
  ]),
  ...i32const(0),
  ...set(G),
  ...block,
  ...loop,
  ...get(G),
  ...get(4),
  ...i32geU,
  ...brIf(1),
  ...get(G),
  ...i32const(6),
  ...i32shl,
  ...set(OFF),
  ...[0, 1, 2, 3].flatMap((j) => [...get(0), ...get(OFF), ...i32add, ...v128load(16 * j), ...set(A + j)]),
  ...[0, 1, 2, 3].flatMap((j) => [...get(1), ...get(OFF), ...i32add, ...v128load(16 * j), ...set(B + j)]),
  ...[0, 1, 2, 3].flatMap((j) => [...allOnes, ...set(M + j)]),
  ...get(3),
  ...set(P),
  ...get(3),
  ...get(5),
  ...i32const(2),
  ...i32shl,
  ...i32add,
  ...set(END),
  ...block,
  ...loop,
  ...get(P),
  ...get(END),
  ...i32geU,
  ...brIf(1),
  ...get(P),
  ...load32splat,
  ...set(X),
  ...[0, 1, 2, 3].flatMap((j) => [...get(M + j), ...get(A + j), ...get(X), ...i32x4mul, ...get(B + j), ...i32x4add, ...i32x4minU, ...set(M + j)]),
  ...get(P),
  ...i32const(4),
  ...i32add,
  ...set(P),
  ...br(0),
  ...end,
  ...end,
  ...[0, 1, 2, 3].flatMap((j) => [...get(2), ...get(OFF), ...i32add, ...get(M + j), ...v128store(16 * j)]),
  ...get(G),
  ...i32const(1),
  ...i32add,
  ...set(G),
  ...br(0),
  ...end,
  ...end,
  ...end,
]

const moduleBytes = (): Uint8Array =>
  Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00]])),
    ...section(3, vec([[0x00]])),
    ...section(5, vec([[0x00, 0x01]])),
    ...section(
      7,
      vec([
        [...name("minhash"), 0x00, 0x00],
        [...name("memory"), 0x02, 0x00],
      ])
    ),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ])

// the slice of the WebAssembly JS API used here (the project compiles without DOM typings)
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object) => { readonly exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

export interface SimdMinHash {
  /** Fills sig[0, 16·groups) with the minima of a·x + b over xs[0, count), for this hasher's a and b. */
  readonly run: (xs: Uint32Array, count: number, sig: Uint32Array) => void
  /** How many leading permutations `run` covers (a multiple of 16). */
  readonly covered: number
}

/** One instance per hasher: the permutation constants stay in its memory; shingle hashes follow them. */
export const simdMinHash = (a: Uint32Array, b: Uint32Array): SimdMinHash | undefined => {
  const groups = Math.floor(a.length / 16)
  if (groups === 0) return undefined
  let instance: { readonly exports: Record<string, unknown> }
  try {
    instance = new wasm.Instance(new wasm.Module(moduleBytes()))
  } catch {
    return undefined
  }
  const memory = instance.exports.memory as WasmMemory
  const minhash = instance.exports.minhash as (...args: Array<number>) => void
  const perms = groups * 16
  const [aAt, bAt, sigAt, xsAt] = [0, perms, 2 * perms, 3 * perms]
  let heap = new Uint32Array(memory.buffer)
  heap.set(a.subarray(0, perms), aAt)
  heap.set(b.subarray(0, perms), bAt)
  return {
    covered: perms,
    run: (xs, count, sig) => {
      const need = (xsAt + count) * 4
      if (memory.buffer.byteLength < need) {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536))
        heap = new Uint32Array(memory.buffer)
      }
      heap.set(xs.subarray(0, count), xsAt)
      minhash(aAt * 4, bAt * 4, sigAt * 4, xsAt * 4, groups, count)
      sig.set(heap.subarray(sigAt, sigAt + perms))
    },
  }
}
