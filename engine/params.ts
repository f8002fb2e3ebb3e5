/**
 * Params: node defaults (from the params Schema), then dag.config.ts `params`, then the profile's
 * `params`, then `--param NODE.PARAM=VALUE` flags. The merged object is decoded by the node's
 * Schema, so a wrong type or an unknown name fails before anything runs, naming node and param.
 */
import { Either, ParseResult, Schema } from "effect"
import { ParamError } from "./errors.js"
import { didYouMean, suggest } from "./suggest.js"
import type { Pipeline } from "./pipeline.js"

export type ParamLayer = Readonly<Record<string, Readonly<Record<string, unknown>>>>

export interface ParamOverride {
  readonly node: string
  readonly path: ReadonlyArray<string>
  readonly raw: string
}

/**
 * Parses `NODE.PARAM=VALUE`. Node names contain "/" (owm/extract), and may be written with "."
 * instead (owm.extract.ratio); the longest prefix that names a node wins.
 */
export const parseOverride = (flag: string, nodeNames: ReadonlyArray<string>): Either.Either<ParamOverride, ParamError> => {
  const eq = flag.indexOf("=")
  if (eq <= 0) {
    return Either.left(new ParamError({ node: "?", param: flag, message: `--param "${flag}" must look like NODE.PARAM=VALUE (e.g. demo/clean.minChars=5)` }))
  }
  const lhs = flag.slice(0, eq)
  const raw = flag.slice(eq + 1)
  const parts = lhs.split(".")
  for (let i = parts.length - 1; i >= 1; i--) {
    const candidate = parts.slice(0, i).join("/")
    const exact = parts.slice(0, i).join(".")
    const node = nodeNames.find((n) => n === candidate || n === exact || n === parts.slice(0, i).join("."))
    if (node) return Either.right({ node, path: parts.slice(i), raw })
  }
  const first = parts[0] ?? lhs
  // the node part is everything before the last dot: "demo/clen.minChars" → "demo/clen"
  const asNode = parts.slice(0, Math.max(1, parts.length - 1)).join("/")
  const near = suggest(asNode, nodeNames) ?? nodeNames.find((n) => n.includes(first.split("/").pop() ?? first))
  return Either.left(
    new ParamError({
      node: first,
      param: parts.slice(1).join("."),
      message: `--param ${lhs}: no node "${asNode}" in this pipeline${near ? `; did you mean "${near}.${parts.at(-1)}"?` : ""} (node names: \`dag graph\`)`,
    })
  )
}

const setPath = (obj: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path
  if (head === undefined) return obj
  const copy = { ...obj }
  copy[head] = rest.length === 0 ? value : setPath((obj[head] as Record<string, unknown>) ?? {}, rest, value)
  return copy
}

/** Reads a raw flag value: JSON when it parses (numbers, booleans, arrays), else the string itself. */
const readRaw = (raw: string): ReadonlyArray<unknown> => {
  try {
    const parsed = JSON.parse(raw)
    return typeof parsed === "string" ? [parsed] : [parsed, raw]
  } catch {
    return [raw]
  }
}

const describe = (error: ParseResult.ParseError): { path: string; message: string } => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  return { path: first?.path.map(String).join(".") ?? "", message: first?.message ?? error.message }
}

export interface ResolvedParams {
  /** node name → decoded params (Schema type, defaults applied) */
  readonly values: ReadonlyMap<string, unknown>
  /** node name → encoded params, the canonical form that enters cache keys */
  readonly encoded: ReadonlyMap<string, unknown>
}

export const resolveParams = (pipeline: Pipeline, layers: ReadonlyArray<ParamLayer>, overrides: ReadonlyArray<ParamOverride>): Either.Either<ResolvedParams, ParamError> => {
  const values = new Map<string, unknown>()
  const encoded = new Map<string, unknown>()
  const names = new Set(pipeline.nodes.map((pn) => pn.node.name))
  for (const o of overrides) {
    if (!names.has(o.node)) return Either.left(new ParamError({ node: o.node, param: o.path.join("."), message: `--param: no node "${o.node}" in pipeline ${pipeline.name}` }))
  }
  // Many nodes share a params Schema (node factories); decoding the same input twice is wasted work.
  const memo = new Map<unknown, { value: unknown; encoded: unknown }>()
  for (const { node } of pipeline.nodes) {
    let merged: Record<string, unknown> = {}
    for (const layer of layers) merged = { ...merged, ...(layer[node.name] ?? {}) }
    const mine = overrides.filter((x) => x.node === node.name)
    const memoKey = mine.length === 0 && Object.keys(merged).length === 0 ? node.params : undefined
    const hit = memoKey ? memo.get(memoKey) : undefined
    if (hit) {
      values.set(node.name, hit.value)
      encoded.set(node.name, hit.encoded)
      continue
    }
    const decode = Schema.decodeUnknownEither(node.params, { onExcessProperty: "error", errors: "first" })
    for (const o of mine) {
      const candidates = readRaw(o.raw)
      let chosen = candidates[0]
      for (const c of candidates) {
        if (Either.isRight(decode(setPath(merged, o.path, c)))) {
          chosen = c
          break
        }
      }
      merged = setPath(merged, o.path, chosen)
    }
    const result = decode(merged)
    if (Either.isLeft(result)) {
      const { path, message } = describe(result.left)
      const param = path || "(params)"
      const unknown = /is unexpected/.test(message)
      const known = paramNames(node.params)
      const text = unknown
        ? `node ${node.name}: unknown param "${param}"${didYouMean(param, known)}; it takes ${known.length ? known.join(", ") : "no params"}`
        : `node ${node.name}: param ${param} is invalid: ${message.replaceAll("\n", " ")}`
      return Either.left(new ParamError({ node: node.name, param, message: text }))
    }
    const enc = Schema.encodeSync(node.params as Schema.Schema<any, any, never>)(result.right)
    values.set(node.name, result.right)
    encoded.set(node.name, enc)
    if (memoKey) memo.set(memoKey, { value: result.right, encoded: enc })
  }
  return Either.right({ values, encoded })
}

/** Top-level param names of a params Schema (its encoded side, where defaults are optional). */
export const paramNames = (schema: Schema.Schema.Any): ReadonlyArray<string> => {
  let ast = schema.ast
  while (ast._tag === "Transformation" || ast._tag === "Refinement") ast = ast.from
  return ast._tag === "TypeLiteral" ? ast.propertySignatures.map((p) => String(p.name)) : []
}

const decodeDefaults = (schema: Schema.Schema<any, any, never>): unknown => {
  const r = Schema.decodeUnknownEither(schema)({})
  return Either.isRight(r) ? r.right : {}
}

/** The defaults of a node's params, encoded (for `dag run --dry-run` and reports). */
export const defaultParams = (schema: Schema.Schema<any, any, never>): unknown => {
  const d = decodeDefaults(schema)
  try {
    return Schema.encodeSync(schema)(d)
  } catch {
    return {}
  }
}
