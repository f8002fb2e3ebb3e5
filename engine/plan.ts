/**
 * Planning is pure: from a node's declaration, its params and the content hashes of its inputs,
 * compute the key struct; from two structs, compute why they differ. The struct (not just its
 * hash) is stored with every result, so `dag why` is a diff of two plain values.
 */
import { columnsOf } from "./columns.js"
import { canonicalJson, hashStruct, sha256, short } from "./hash.js"
import type { AnyNode } from "./node.js"
import { outputPorts } from "./node.js"

export interface KeyStruct {
  readonly node: string
  readonly kind: AnyNode["kind"]
  readonly version: number
  readonly codeHash: string
  readonly params: unknown
  /** input name → content hashes (artifact ids, shard hashes, or source fingerprints) */
  readonly inputs: Readonly<Record<string, ReadonlyArray<string>>>
  readonly schemaHash: string
  readonly runtime: Readonly<Record<string, string>>
  /** For per-shard keys: which shard of the node this is. */
  readonly shard?: number
}

const portHashes = new WeakMap<object, string>()
const portHash = (schema: object & Parameters<typeof columnsOf>[0]): string => {
  let h = portHashes.get(schema)
  if (h === undefined) {
    h = hashStruct(columnsOf(schema))
    portHashes.set(schema, h)
  }
  return h
}

const schemaHashes = new Map<string, string>()

/** Hash of the node's input and output row schemas (per-schema and per-signature hashes are cached). */
export const nodeSchemaHash = (node: AnyNode): string => {
  const parts: Array<string> = []
  if (node.kind === "map") parts.push(`in=${portHash(node.input.schema)}`)
  for (const [k, p] of Object.entries(outputPorts(node))) parts.push(`${k}=${p._tag === "Dataset" ? portHash(p.schema) : `file:${p.extension}`}`)
  const signature = parts.join(";")
  let h = schemaHashes.get(signature)
  if (h === undefined) {
    h = sha256(signature)
    schemaHashes.set(signature, h)
  }
  return h
}

export const keyStruct = (node: AnyNode, params: unknown, inputs: Readonly<Record<string, ReadonlyArray<string>>>, runtime: Readonly<Record<string, string>>, shard?: number): KeyStruct => ({
  node: node.name,
  kind: node.kind,
  version: node.version,
  codeHash: node.codeHash,
  params,
  inputs,
  schemaHash: nodeSchemaHash(node),
  runtime: { ...runtime, ...(node.runtime ?? {}) },
  ...(shard === undefined ? {} : { shard }),
})

export const keyOf = (s: KeyStruct): string => hashStruct(s)

// The key formulas, in one place: the runner, `dag why`/--dry-run and Slurm tasks all build keys here.

/** How a source unit enters keys: its id and content fingerprint. */
const unitRef = (u: { readonly id: string; readonly fingerprint: string }): string => `${u.id}@${u.fingerprint}`

/** A node's key struct: a source's units, or the artifact ids its inputs read (missing: none yet). */
export const nodeKeyStruct = (
  node: AnyNode,
  params: unknown,
  from: { readonly units: ReadonlyArray<{ readonly id: string; readonly fingerprint: string }> } | { readonly inputs: Readonly<Record<string, string | undefined>> },
  runtime: Readonly<Record<string, string>>
): KeyStruct => keyStruct(node, params, "units" in from ? { units: from.units.map(unitRef) } : Object.fromEntries(Object.entries(from.inputs).map(([k, id]) => [k, id ? [id] : []])), runtime)

/** One shard's key struct: a source's unit, or the input shard (by content hash) a map node reads. */
export const shardKeyStruct = (
  node: AnyNode,
  params: unknown,
  from: { readonly unit: { readonly id: string; readonly fingerprint: string } } | { readonly inputShard: string },
  runtime: Readonly<Record<string, string>>
): KeyStruct => keyStruct(node, params, "unit" in from ? { unit: [unitRef(from.unit)] } : { in: [from.inputShard] }, runtime)

// ---------------------------------------------------------------- staleness

export type CauseCategory = "CODE" | "PARAMS" | "DATA" | "DEPENDENCIES" | "NEW" | "FORCED" | "MISSING"

export interface Cause {
  readonly category: CauseCategory
  readonly detail: string
}

const leafDiff = (a: unknown, b: unknown, prefix: string, out: Array<string>): void => {
  if (canonicalJson(a) === canonicalJson(b)) return
  const isObj = (x: unknown) => x !== null && typeof x === "object" && !Array.isArray(x)
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)])
    for (const k of [...keys].sort()) leafDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out)
    return
  }
  const show = (x: unknown) => (x === undefined ? "(unset)" : canonicalJson(x))
  out.push(`${prefix} ${show(a)} → ${show(b)}`)
}

/** Why `current` differs from `stored`, by category. Empty when they are equal. */
export const diffKeys = (stored: KeyStruct | undefined, current: KeyStruct): ReadonlyArray<Cause> => {
  if (!stored) return [{ category: "NEW", detail: "never computed with this store" }]
  const causes: Array<Cause> = []
  if (stored.version !== current.version) causes.push({ category: "CODE", detail: `version ${stored.version} → ${current.version}` })
  if (stored.codeHash !== current.codeHash) causes.push({ category: "CODE", detail: `code of ${current.node} changed (${short(stored.codeHash)} → ${short(current.codeHash)})` })
  if (stored.schemaHash !== current.schemaHash) causes.push({ category: "CODE", detail: `row schema changed` })
  const params: Array<string> = []
  leafDiff(stored.params, current.params, "", params)
  for (const p of params) causes.push({ category: "PARAMS", detail: p })
  const runtime: Array<string> = []
  leafDiff(stored.runtime, current.runtime, "", runtime)
  // declared files (models, word lists, test sets) are data the node reads; the rest is the toolchain
  for (const r of runtime)
    causes.push(r.startsWith("file:") ? { category: "DATA", detail: `${r.replace(/^file:(\S+) .*$/, "file $1 changed")}` } : { category: "DEPENDENCIES", detail: `runtime ${r}` })
  const names = new Set([...Object.keys(stored.inputs), ...Object.keys(current.inputs)])
  for (const name of [...names].sort()) {
    const a = stored.inputs[name] ?? []
    const b = current.inputs[name] ?? []
    if (canonicalJson(a) === canonicalJson(b)) continue
    const setA = new Set(a)
    const changed = b.filter((h) => !setA.has(h)).length
    const removed = a.filter((h) => !new Set(b).has(h)).length
    causes.push({
      category: "DATA",
      detail: `input ${name} changed: ${changed} new/changed, ${removed} removed of ${b.length} (${a.length} before)`,
    })
  }
  return causes
}

/**
 * Why a node must be computed when its key has no usable result: --force, what differs from the
 * struct it was last computed with, or (same key) an output that went missing. The one rule
 * `dag run`, `--dry-run` and `dag why` all apply.
 */
export const staleCauses = (stored: KeyStruct | undefined, current: KeyStruct, forced: boolean): ReadonlyArray<Cause> => {
  if (forced) return [{ category: "FORCED", detail: "--force" }]
  const causes = diffKeys(stored, current)
  return causes.length > 0 ? causes : [{ category: "MISSING", detail: "a committed output is missing or corrupt; it is recomputed" }]
}

export const formatCauses = (causes: ReadonlyArray<Cause>): string => causes.map((c) => `${c.category}: ${c.detail}`).join("; ")
