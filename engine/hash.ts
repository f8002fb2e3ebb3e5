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
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + (value[i] === undefined ? "null" : canonicalJson(value[i]))
    return out + "]"
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let out = "{"
  let first = true
  for (const k of keys) {
    const v = record[k]
    if (v === undefined) continue
    out += (first ? "" : ",") + JSON.stringify(k) + ":" + canonicalJson(v)
    first = false
  }
  return out + "}"
}

export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

export const hashStruct = (value: unknown): string => sha256(canonicalJson(value))

/** Short form for humans; full hashes stay in the store. */
export const short = (hash: string): string => hash.slice(0, 12)
