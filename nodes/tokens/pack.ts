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
  }),
  report: [
    Cell.histogram("Document length in the packed stream", "SELECT len(tokens) AS tokens FROM self_documents", { bins: 20, xLabel: "tokens per document" }),
    Cell.table("Windows", "SELECT count(*)::BIGINT AS windows, min(len(tokens))::BIGINT AS window_tokens, (count(*) * (min(len(tokens)) - 1))::BIGINT AS training_tokens FROM self_sequences"),
  ],
  run: (ctx) =>
    Effect.gen(function* () {
      const { seqLength, seed } = ctx.params
      const eod = EOD_IDS[ctx.params.eod]
      const order = `SELECT (row_number() OVER (ORDER BY hash(d.subset, d.id, d.epoch, ${seed}), d.subset, d.id, d.epoch) - 1)::BIGINT AS position,
          d.subset, d.id, d.epoch, coalesce(m.weight, 0)::DOUBLE AS weight, ${eod === undefined ? "d.tokens" : `list_append(d.tokens, ${eod})`} AS tokens
        FROM docs d LEFT JOIN mixture m USING (subset)`
      yield* ctx.outputs.documents.writeQuery(`${order} ORDER BY position`)
      const rows = yield* ctx.stream(`SELECT tokens FROM (${order}) ORDER BY position`)
      let tail = 0
      yield* ctx.outputs.sequences.write(
        (async function* () {
          // pending tokens from `start`; each window is the next L + 1, then the stream advances by L
          let buffer: Array<number> = []
          let start = 0
          let seq = 0
          for await (const row of rows) {
            for (const t of row.tokens as Array<number>) buffer.push(t)
            while (buffer.length - start >= seqLength + 1) {
              yield { seq: seq++, tokens: buffer.slice(start, start + seqLength + 1) }
              start += seqLength
            }
            if (start > 0) {
              buffer = buffer.slice(start)
              start = 0
            }
          }
          tail = buffer.length - start
        })()
      )
      if (tail > 1) ctx.drop("tail shorter than a window (tokens)", tail - 1)
    }),
})
