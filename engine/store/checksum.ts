/**
 * File digests. Objects are named by SHA-256 (identity: two equal names are equal bytes), and each
 * also carries a fast xxHash64 recorded at commit in a sidecar file beside it. Every read checks
 * the fast one (about 4× cheaper than SHA-256 here); SHA-256 is computed only when the sidecar is
 * missing or disagrees, so a damaged sidecar can never condemn a good shard.
 */
import { createXXHash64, type IHasher } from "hash-wasm"
import { createHash } from "node:crypto"
import * as fs from "node:fs"

export interface Digests {
  /** SHA-256, hex */
  readonly hash: string
  readonly bytes: number
  /** xxHash64, hex */
  readonly check: string
}

const CHUNK = 1 << 20
/** Yield to the event loop after this many bytes, so a large file never blocks the thread for long. */
const SLICE = 64 << 20

/**
 * Read buffers are reused: a fresh buffer per file costs a page fault per 4 KiB, which made reading
 * from the page cache 15× slower than the copy itself.
 */
const spare: Array<Buffer> = []

/**
 * Feeds a file to `use` in 1 MiB chunks with synchronous reads into a reused buffer (from the
 * page cache these run at memory speed; libuv's thread hop would cost more than the read).
 */
const eachChunk = async (file: string, use: (chunk: Uint8Array) => void): Promise<number> => {
  const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK)
  const fd = fs.openSync(file, "r")
  try {
    let total = 0
    let sinceYield = 0
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null)
      if (n === 0) return total
      use(buffer.subarray(0, n))
      total += n
      sinceYield += n
      if (sinceYield >= SLICE) {
        sinceYield = 0
        await new Promise((r) => setImmediate(r))
      }
    }
  } finally {
    fs.closeSync(fd)
    spare.push(buffer)
  }
}

const newFast = (): Promise<IHasher> => createXXHash64()

/** Both digests in one pass over the file (at commit, and when the fast one cannot be trusted). */
export const digestFile = async (file: string): Promise<Digests> => {
  const strong = createHash("sha256")
  const fast = await newFast()
  fast.init()
  const bytes = await eachChunk(file, (c) => {
    strong.update(c)
    fast.update(c)
  })
  return { hash: strong.digest("hex"), bytes, check: fast.digest("hex") }
}

/** The fast digest alone: what every read pays. */
export const fastDigest = async (file: string): Promise<{ check: string; bytes: number }> => {
  const fast = await newFast()
  fast.init()
  const bytes = await eachChunk(file, (c) => fast.update(c))
  return { check: fast.digest("hex"), bytes }
}

const sidecarPath = (objectFile: string) => `${objectFile}.xxh64`

/** The fast digest recorded for an object, if its sidecar is readable and well formed. */
export const readCheck = (objectFile: string): { check: string; bytes: number } | undefined => {
  let text: string
  try {
    text = fs.readFileSync(sidecarPath(objectFile), "utf8")
  } catch {
    return undefined
  }
  const m = /^([0-9a-f]{16}) (\d+)\n?$/.exec(text)
  return m ? { check: m[1]!, bytes: Number(m[2]) } : undefined
}

/** Records the fast digest; best effort (a missing sidecar only costs a SHA-256 on the next read). */
export const writeCheck = (objectFile: string, d: { check: string; bytes: number }): void => {
  const tmp = `${sidecarPath(objectFile)}.${process.pid}.tmp`
  try {
    fs.writeFileSync(tmp, `${d.check} ${d.bytes}\n`)
    fs.renameSync(tmp, sidecarPath(objectFile))
  } catch {
    fs.rmSync(tmp, { force: true })
  }
}

export const removeCheck = (objectFile: string): void => fs.rmSync(sidecarPath(objectFile), { force: true })

export const isSidecar = (file: string): boolean => file.endsWith(".xxh64")
