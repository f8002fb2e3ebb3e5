/**
 * Every metadata file the engine reads (manifests, key records, refs, pipeline indexes, the
 * fingerprint cache, run journals, leases) is decoded with a Schema. A file that does not parse
 * or decode is treated as missing: the caller recomputes, rebuilds or re-fingerprints, and one
 * warning names the file. Damaged metadata never becomes an internal error or blocks a pipeline.
 */
import { Either, ParseResult, Schema } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"

const Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{16,64}$/))
const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Counts = Schema.Record({ key: Schema.String, value: Schema.Number })
const Samples = Schema.Record({ key: Schema.String, value: Schema.Array(Schema.Unknown) })

export const ShardEntrySchema = Schema.Struct({ hash: Hex, rows: Count, bytes: Count })

const ColumnSchema = Schema.Struct({ name: Schema.String, type: Schema.Object, nullable: Schema.Boolean })

export const ManifestSchema = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("dataset"),
    format: Schema.Literal("parquet-zstd"),
    columns: Schema.Array(ColumnSchema),
    arrowSchema: Schema.Array(Schema.Struct({ name: Schema.String, type: Schema.String, nullable: Schema.Boolean })),
    shards: Schema.Array(ShardEntrySchema),
    rows: Count,
    bytes: Count,
  }),
  Schema.Struct({ kind: Schema.Literal("file"), extension: Schema.String, hash: Hex, bytes: Count, fileName: Schema.optional(Schema.String) })
)

const KeyStructSchema = Schema.Struct({
  node: Schema.String,
  kind: Schema.String,
  version: Schema.Number,
  codeHash: Schema.String,
  params: Schema.Unknown,
  inputs: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }),
  schemaHash: Schema.String,
  runtime: Schema.Record({ key: Schema.String, value: Schema.String }),
  shard: Schema.optional(Schema.Number),
})

export const ShardRecordSchema = Schema.Struct({
  key: Hex,
  struct: KeyStructSchema,
  shard: ShardEntrySchema,
  rowsIn: Count,
  dropped: Counts,
  droppedSamples: Schema.optional(Samples),
  inputs: Schema.Array(Schema.String),
  run: Schema.String,
  job: Schema.optional(Schema.String),
  host: Schema.String,
  ms: Schema.Number,
  at: Schema.String,
})

export const NodeRecordSchema = Schema.Struct({
  key: Hex,
  struct: KeyStructSchema,
  node: Schema.String,
  outputs: Schema.Record({ key: Schema.String, value: Hex }),
  manifests: Schema.optional(Schema.Record({ key: Schema.String, value: ManifestSchema })),
  shards: Schema.Array(Schema.Struct({ index: Count, key: Hex, hash: Hex, rows: Count, inputs: Schema.Array(Schema.String) })),
  rowsIn: Count,
  rowsOut: Count,
  dropped: Counts,
  droppedSamples: Schema.optional(Samples),
  run: Schema.String,
  ms: Schema.Number,
  at: Schema.String,
})

export const IndexSchema = Schema.Record({ key: Schema.String, value: NodeRecordSchema })

export const FingerprintCacheSchema = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({
    size: Count,
    mtimeMs: Schema.Number,
    ino: Schema.Number,
    sha256: Hex,
    layouts: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  }),
})

const NodeLogSchema = Schema.Struct({
  node: Schema.String,
  kind: Schema.String,
  status: Schema.Literal("pending", "running", "cached", "computed", "partial", "failed", "skipped", "planned"),
  key: Schema.optional(Schema.String),
  causes: Schema.Array(Schema.Struct({ category: Schema.String, detail: Schema.String })),
  params: Schema.Unknown,
  outputs: Schema.Record({ key: Schema.String, value: Schema.String }),
  shards: Schema.Struct({ total: Count, cached: Count, computed: Count, failed: Count }),
  rows: Schema.Struct({ in: Count, out: Count }),
  dropped: Counts,
  droppedSamples: Samples,
  ms: Schema.Number,
  errors: Schema.Array(Schema.String),
  shardLog: Schema.Array(Schema.Object),
})

/** runs/<id>/metrics.json: the pipeline's key figures for that run (written with its report). */
export const RunMetricsSchema = Schema.Struct({
  run: Schema.String,
  metrics: Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.Union(Schema.Number, Schema.String)) }),
})

export const RunRecordSchema = Schema.Struct({
  run: Schema.String,
  pipeline: Schema.String,
  profile: Schema.String,
  executor: Schema.optional(Schema.String),
  mainThread: Schema.optional(
    Schema.Struct({
      maxStallMs: Schema.Number,
      p99StallMs: Schema.Number,
      stalls: Schema.optional(Schema.Array(Schema.Struct({ atMs: Schema.Number, ms: Schema.Number, running: Schema.Array(Schema.String) }))),
    })
  ),
  status: Schema.Literal("running", "ok", "failed", "interrupted", "planned"),
  dryRun: Schema.Boolean,
  startedAt: Schema.String,
  host: Schema.String,
  pid: Schema.Number,
  argv: Schema.Array(Schema.String),
  overrides: Schema.Array(Schema.String),
  nodes: Schema.Array(NodeLogSchema),
})

export interface Damaged {
  readonly file: string
  readonly reason: string
}

const damaged = new Map<string, string>()
let warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)

/** Where damage warnings go (the CLI's stderr by default; `dag doctor` collects them instead). */
export const onDamagedMetadata = (sink: (line: string) => void): void => {
  warn = sink
}

/** Metadata files found damaged by this process, with the reason. */
export const damagedMetadata = (): ReadonlyArray<Damaged> => [...damaged].map(([file, reason]) => ({ file, reason }))

const reasonOf = (e: unknown): string => {
  const text = e instanceof Error ? e.message : String(e)
  return (text.split("\n").find((l) => l.trim() !== "") ?? text).trim().slice(0, 160)
}

/** The first problem of a failed decode, short: where in the file, and what was wrong. */
const shortIssue = (e: ParseResult.ParseError): string => {
  const first = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
  if (!first) return "unexpected content"
  const where = first.path.length ? first.path.map(String).join(".") : "top level"
  const what = first.message.length > 100 ? `${first.message.slice(0, 100)}…` : first.message
  return `unexpected content at ${where}: ${what}`
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")
const SEALED = /^([0-9a-f]{64})\n/

/**
 * Metadata text with its own SHA-256 on a first line. Large files that are read on every run (the
 * pipeline index: one record per node) are sealed, because checking the hash costs a fraction of
 * the JSON parse while a Schema decode of 1,000 records costs 5-10× the parse.
 */
export const sealMetadata = (json: string): string => `${sha256(json)}\n${json}`

/** Whether a metadata file starts with a seal (reads its first line only). */
export const isSealed = (file: string): boolean => {
  const head = Buffer.alloc(65)
  let fd: number | undefined
  try {
    fd = fs.openSync(file, "r")
    return SEALED.test(head.subarray(0, fs.readSync(fd, head, 0, 65, 0)).toString("latin1"))
  } catch {
    return false
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Decodes a metadata file's text: the value, or why it is not acceptable. */
export const decodeMetadata = <S extends Schema.Schema.AnyNoContext>(text: string, schema: S): Either.Either<Schema.Schema.Type<S>, string> => {
  const seal = SEALED.exec(text)
  const body = seal ? text.slice(seal[0].length) : text
  if (seal && sha256(body) !== seal[1]) return Either.left("its content does not match the checksum it was written with")
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    return Either.left(`not valid JSON (${reasonOf(e)})`)
  }
  // intact sealed text is exactly what this program wrote: no need to decode it field by field
  if (seal && typeof json === "object" && json !== null) return Either.right(json as Schema.Schema.Type<S>)
  return Schema.decodeUnknownEither(schema as Schema.Schema<Schema.Schema.Type<S>>, { onExcessProperty: "preserve" })(json).pipe(Either.mapLeft(shortIssue))
}

/**
 * Reads and decodes a metadata file. Missing → `fallback`, quietly. Unreadable, not JSON, or not
 * the expected shape → `fallback` and one warning naming the file and what happens instead.
 * Excess properties are kept (records written by a newer version still read whole).
 */
export const readMetadata = <S extends Schema.Schema.AnyNoContext, F>(file: string, schema: S, fallback: F, consequence: string): Schema.Schema.Type<S> | F => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === "ENOENT" || code === "ENOTDIR") return fallback
    return noteDamage(file, reasonOf(e), consequence, fallback)
  }
  const decoded = decodeMetadata(text, schema)
  return Either.isRight(decoded) ? decoded.right : noteDamage(file, decoded.left, consequence, fallback)
}

const noteDamage = <A>(file: string, reason: string, consequence: string, fallback: A): A => {
  if (!damaged.has(file)) {
    damaged.set(file, reason)
    warn(`warning: ${file} is damaged: ${reason}; ${consequence}`)
  }
  return fallback
}
