/**
 * Canonical hashing. Every cache key and artifact id is the SHA-256 of a canonical JSON
 * rendering of a plain struct, so the struct can be stored next to its hash and diffed later.
 */
import { createHash } from "node:crypto"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

/** JSON with object keys sorted at every depth; `undefined` fields are omitted, like JSON.stringify. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return value.toString()
    if (typeof value === "number" && !Number.isFinite(value)) return JSON.stringify(String(value))
    return JSON.stringify(value) ?? "null"
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`
  const entries = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
  return `{${entries.join(",")}}`
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

export const hashStruct = (value: unknown): string => sha256(canonicalJson(value))

/** Short form for humans; full hashes stay in the store. */
export const short = (hash: string): string => hash.slice(0, 12)
