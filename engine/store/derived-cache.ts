/**
 * Results derived from artifacts (the report's query results), kept in the store by a key that
 * names the artifacts they were derived from. Artifacts are content-addressed, so an entry stays
 * right as long as its key is built from everything the result depends on.
 *
 * Entries are a cache, never a source of truth: a damaged or unreadable one (each carries the
 * SHA-256 of its value, checked on every read, so flipped bits are a miss too) is a miss, writes are
 * not fsynced (a lost entry is recomputed), a value that would not come back from JSON unchanged
 * (bytes, NaN, bigint) is not kept, and `dag gc` drops the entries of artifacts it deletes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { sha256 } from "../hash.js"
import { writeFileAtomic } from "./fsx.js"
import type { Store } from "./store.js"

export const DERIVED_DIR = "derived"
/** Larger results are recomputed each time rather than kept. */
const MAX_ENTRY_BYTES = 2 * 1024 ** 2

interface Entry {
  /** name → artifact id of everything the value was derived from */
  readonly from: Record<string, string>
  /** the value's JSON text, and its SHA-256 */
  readonly value: string
  readonly sha256: string
}

const entryPath = (store: Store, key: string): string => path.join(store.dir, DERIVED_DIR, key.slice(0, 2), `${key}.json`)

/** Whether a value comes back from JSON as it went in. */
const jsonExact = (v: unknown): boolean => {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true
  if (typeof v === "number") return Number.isFinite(v)
  if (Array.isArray(v)) return v.every(jsonExact)
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every(jsonExact)
  return false
}

/** The value kept under `key`, or undefined. */
export const readDerived = (store: Store, key: string): unknown => {
  try {
    const e = JSON.parse(fs.readFileSync(entryPath(store, key), "utf8")) as Entry
    return typeof e.value === "string" && sha256(e.value) === e.sha256 ? (JSON.parse(e.value) as unknown) : undefined
  } catch {
    return undefined
  }
}

/** Keeps `value` under `key`, derived from the artifacts `from`; silently skipped where it cannot be. */
export const writeDerived = (store: Store, key: string, from: Record<string, string>, value: unknown): void => {
  if (!jsonExact(value)) return
  const json = JSON.stringify(value)
  const text = JSON.stringify({ from, value: json, sha256: sha256(json) } satisfies Entry)
  if (text.length > MAX_ENTRY_BYTES) return
  try {
    const file = entryPath(store, key)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    writeFileAtomic(store.tmp, file, text, false)
  } catch {
    /* a read-only or full store: the value is recomputed next time */
  }
}

/** Removes (through `remove`) every entry derived from an artifact that is not live; returns how many. */
export const sweepDerived = (store: Store, liveArtifacts: ReadonlySet<string>, remove: (file: string) => void): number => {
  const root = path.join(store.dir, DERIVED_DIR)
  let removed = 0
  for (const dir of fs.existsSync(root) ? fs.readdirSync(root, { withFileTypes: true }) : []) {
    if (!dir.isDirectory()) continue
    for (const f of fs.readdirSync(path.join(root, dir.name), { withFileTypes: true })) {
      if (!f.isFile()) continue
      const file = path.join(root, dir.name, f.name)
      let from: Record<string, string> | undefined
      try {
        from = (JSON.parse(fs.readFileSync(file, "utf8")) as Entry).from
      } catch {
        from = undefined
      }
      if (!from || typeof from !== "object" || Object.values(from).some((id) => !liveArtifacts.has(id))) {
        remove(file)
        removed++
      }
    }
  }
  return removed
}
