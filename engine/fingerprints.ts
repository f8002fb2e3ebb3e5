/**
 * Content fingerprints of input files, cached by (size, mtime, inode) in the store, so planning over
 * many large inputs does not re-read them all on every run. A file modified in the last two seconds
 * is always re-read (its mtime may not yet tell a later change apart), as git does with its index.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { createHash } from "node:crypto"
import { writeFileAtomic } from "./store/fsx.js"
import { FingerprintCacheSchema, readMetadata } from "./store/metadata.js"

interface Entry {
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
  readonly sha256: string
  /** Derived facts about this content (cut points of a file format), by name. */
  layouts?: Record<string, unknown>
}

let cacheFile: string | undefined
let cache: Record<string, Entry> | undefined
let dirty = false

/** Where the cache lives (the store); without it fingerprints are computed every time. */
export const useFingerprintCache = (storeDir: string | undefined): void => {
  cacheFile = storeDir ? path.join(storeDir, "fingerprints.json") : undefined
  cache = undefined
  dirty = false
}

const hashFile = (file: string): string => {
  const h = createHash("sha256")
  const fd = fs.openSync(file, "r")
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) h.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return h.digest("hex")
}

export const fingerprintFile = (file: string): string => {
  const st = fs.statSync(file)
  if (cacheFile && !cache) cache = { ...(readMetadata(cacheFile, FingerprintCacheSchema, {}, "input files are fingerprinted again and the cache is rewritten") as Record<string, Entry>) }
  const hit = cache?.[file]
  const settled = Date.now() - st.mtimeMs > 2000
  if (hit && settled && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit.ino === st.ino) return hit.sha256
  const sha256 = hashFile(file)
  if (cache && settled) {
    cache[file] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 }
    dirty = true
  }
  return sha256
}

/**
 * A fact derived from a file's content (its cut points for one format and shard size), computed
 * once and cached beside its fingerprint, so it is recomputed exactly when the content changes.
 */
export const cachedLayout = <A>(file: string, name: string, compute: () => A): A => {
  const sha256 = fingerprintFile(file)
  const known = knownLayout<A>(file, sha256, name)
  return known !== undefined ? known : rememberLayout(file, sha256, name, compute())
}

/** cachedLayout for facts that take asynchronous work (reading a Parquet footer through DuckDB). */
export const cachedLayoutAsync = async <A>(file: string, name: string, compute: () => Promise<A>): Promise<A> => {
  const sha256 = fingerprintFile(file)
  const known = knownLayout<A>(file, sha256, name)
  return known !== undefined ? known : rememberLayout(file, sha256, name, await compute())
}

// An entry may describe older content (a file changed within the last two seconds keeps its old
// entry until it settles): layouts are only taken from, and added to, an entry of this content.
const knownLayout = <A>(file: string, sha256: string, name: string): A | undefined => {
  const entry = cache?.[file]
  return entry?.sha256 === sha256 ? (entry.layouts?.[name] as A | undefined) : undefined
}

const rememberLayout = <A>(file: string, sha256: string, name: string, value: A): A => {
  const entry = cache?.[file]
  if (entry?.sha256 === sha256) {
    entry.layouts = { ...entry.layouts, [name]: value }
    dirty = true
  }
  return value
}

/** Writes new cache entries (atomically; losing them only costs a re-read). */
export const saveFingerprints = (): void => {
  if (!cacheFile || !cache || !dirty) return
  try {
    writeFileAtomic(path.join(path.dirname(cacheFile), "tmp"), cacheFile, JSON.stringify(cache), false)
    dirty = false
  } catch {
    /* a read-only or full store: fingerprints are recomputed next time */
  }
}
