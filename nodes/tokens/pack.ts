/**
 * tokens/pack: the mixed documents in a seeded shuffled order, concatenated, cut into windows of
 * seq_length + 1 tokens that overlap by one token (window k covers stream[k·L, k·L + L]), with no
 * padding: the tail shorter than a window is dropped and counted. Optional EOD after each document:
 * `neox` appends id 0 — gpt-neox's SentencePiece wrapper has no `<|endoftext|>` piece and yields 0 —
 * and `eos` appends Llama's `</s>`, id 2.
 *
 * Outputs: `sequences` (the windows, for the in-process trainer) and `documents` (every document in
 * packing order with its subset, epoch and mixture weight: what `dag export --format neox` writes).
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { EOS } from "./bpe.js"
import { MixedDoc, MixtureRow } from "./mix.js"
import * as fs from "node:fs"
import * as path from "node:path"
import { scratchDir } from "../../engine/resources/memory.js"
import { tempName } from "../../engine/store/fsx.js"
import { sqlString } from "../../engine/store/duckdb.js"

export const Sequence = Schema.Struct({ seq: Schema.Int, tokens: Schema.Array(Schema.Int) })

export const PackedDoc = Schema.Struct({
  position: Schema.Int,
  subset: Schema.String,
  id: Schema.String,
  epoch: Schema.Int,
  weight: Schema.Number,
  tokens: Schema.Array(Schema.Int),
})

export const EOD_IDS = { none: undefined, neox: 0, eos: EOS } as const

export const pack = Node.global({
  name: "tokens/pack",
  version: 1,
  description: "Shuffled, concatenated, cut into seq_length + 1 windows overlapping by one token; no padding.",
  inputs: { docs: Node.Dataset(MixedDoc), mixture: Node.Dataset(MixtureRow) },
  outputs: { sequences: Node.Dataset(Sequence), documents: Node.Dataset(PackedDoc) },
  params: Schema.Struct({
    seqLength: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4096 }),
    seed: Schema.optionalWith(Schema.Int, { default: () => 1234 }),
    eod: Schema.optionalWith(Schema.Literal("none", "neox", "eos"), { default: () => "none" as const }),
    /** tokens per bucket of the shuffled stream: the most one sort holds (≈ 8 bytes each in DuckDB); the output does not depend on it */
    bucketTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4_000_000 }),
  }),
  report: [
    Cell.histogram("Document length in the packed stream", "SELECT len(tokens) AS tokens FROM self_documents", { bins: 20, xLabel: "tokens per document" }),
    Cell.table("Windows", "SELECT count(*)::BIGINT AS windows, min(len(tokens))::BIGINT AS window_tokens, (count(*) * (min(len(tokens)) - 1))::BIGINT AS training_tokens FROM self_sequences"),
  ],
  run: (ctx) =>
    Effect.gen(function* () {
      const { seqLength, seed } = ctx.params
      const eod = EOD_IDS[ctx.params.eod]
      const paths = yield* ctx.inputs.docs.paths()
      if (paths.length === 0) return
      const docs = `read_parquet([${paths.map(sqlString).join(", ")}], filename = true, file_row_number = true)`
      // The shuffle is planned on ids alone. Each document's place in the stream gives it a bucket of
      // about `bucketTokens` tokens; buckets are written out in order, each sorted on its own, so the
      // largest sort holds one bucket, whatever the corpus size.
      yield* ctx.sql(`CREATE TABLE packing AS
        WITH ord AS (SELECT (row_number() OVER (ORDER BY hash(subset, id, epoch, ${seed}), subset, id, epoch, filename, file_row_number) - 1)::BIGINT AS position,
            subset, n_tokens, filename, file_row_number AS "row" FROM ${docs})
        SELECT position, (coalesce(sum(n_tokens) OVER (ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) // ${ctx.params.bucketTokens})::BIGINT AS bucket,
          filename, "row" FROM ord`)
      const [{ buckets, rows, tokens: total }] = (yield* ctx.sql(
        `SELECT (coalesce(max(bucket), -1) + 1)::BIGINT AS buckets, count(*)::BIGINT AS rows, (SELECT coalesce(sum(n_tokens), 0) FROM ${docs})::BIGINT AS tokens FROM packing`
      )) as [{ buckets: number; rows: number; tokens: number }]
      // A partitioned write buffers rows per open partition: flush each after ~2 MB of tokens.
      yield* ctx.sql(`SET partitioned_write_flush_threshold = ${Math.max(16, Math.floor((rows * 262_144) / Math.max(1, total)))}`)
      const tokens = eod === undefined ? "d.tokens" : `list_append(d.tokens, ${eod})`
      const placed = `SELECT p.position, p.bucket, d.subset, d.id, d.epoch, coalesce(m.weight, 0)::DOUBLE AS weight, ${tokens} AS tokens
        FROM packing p JOIN ${docs} d ON d.filename = p.filename AND d.file_row_number = p."row" LEFT JOIN mixture m USING (subset)`
      // pending tokens from `start`; each window is the next L + 1, then the stream advances by L
      let buffer: Array<number> = []
      let start = 0
      let seq = 0
      const windows = (rows: AsyncIterable<Record<string, unknown>>) =>
        (async function* () {
          for await (const row of rows) {
            const text = row.tokens as string
            if (text.length > 0) for (const t of text.split(",")) buffer.push(Number(t))
            while (buffer.length - start >= seqLength + 1) {
              yield { seq: seq++, tokens: buffer.slice(start, start + seqLength + 1) }
              start += seqLength
            }
            if (start > 0) {
              buffer = buffer.slice(start)
              start = 0
            }
          }
        })()
      let packed = 0
      ctx.progress({ done: 0, total: buckets, unit: "buckets", note: `${rows.toLocaleString("en-US")} documents, ${total.toLocaleString("en-US")} tokens` })
      yield* forEachBucket(ctx.sql, placed, buckets, (source) =>
        Effect.gen(function* () {
          const ordered = `SELECT position, subset, id, epoch, weight, tokens FROM ${source} ORDER BY position`
          yield* ctx.outputs.documents.writeQuery(ordered)
          // ids as text: converting a DuckDB list to JavaScript makes a BigInt per id, several times slower
          yield* ctx.outputs.sequences.write(windows(yield* ctx.stream(`SELECT array_to_string(tokens, ',') AS tokens FROM (${ordered})`)))
          ctx.progress({ done: ++packed, total: buckets, unit: "buckets", note: `${seq.toLocaleString("en-US")} windows` })
        })
      )
      const tail = buffer.length - start
      if (tail > 1) ctx.drop("tail shorter than a window (tokens)", tail - 1)
    }),
})

/** Buckets written per pass over the data (open Parquet writers at once). */
const FAN_OUT = 32

/**
 * Calls `emit` for buckets 0…n-1 in order, each with a SQL source holding exactly its rows. Few
 * buckets are read straight from `rows`; more are first split into at most FAN_OUT Parquet
 * partitions per pass (recursively), so every row is rewritten O(log n) times and no pass sorts more
 * than one bucket.
 */
const forEachBucket = <E>(
  sql: (q: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, E>,
  rows: string,
  n: number,
  emit: (source: string) => Effect.Effect<void, E>
): Effect.Effect<void, E> => {
  const split = (source: string, lo: number, hi: number): Effect.Effect<void, E> =>
    Effect.gen(function* () {
      if (hi - lo <= 1) return yield* emit(`(SELECT * FROM ${source} WHERE bucket = ${lo})`)
      if (hi - lo <= 2) {
        for (let b = lo; b < hi; b++) yield* emit(`(SELECT * FROM ${source} WHERE bucket = ${b})`)
        return
      }
      const step = Math.ceil((hi - lo) / FAN_OUT)
      const dir = tempName(scratchDir(), "pack-buckets")
      yield* Effect.gen(function* () {
        yield* sql(
          `COPY (SELECT *, (bucket - ${lo}) // ${step} AS part FROM ${source} WHERE bucket >= ${lo} AND bucket < ${hi}) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARTITION_BY (part))`
        )
        for (let p = 0; lo + p * step < hi; p++) {
          const part = path.join(dir, `part=${p}`)
          if (fs.existsSync(part)) yield* split(`read_parquet(${sqlString(path.join(part, "*.parquet"))})`, lo + p * step, Math.min(hi, lo + (p + 1) * step))
        }
      }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))))
    })
  return n <= 0 ? Effect.void : split(`(${rows})`, 0, n)
}
