/**
 * tokens/tokenize: Llama-2 ids per document (our BPE, worker threads), no BOS by default, with the
 * subset and split each document belongs to. Empty documents and documents over `maxTokens` are
 * dropped with their reason rather than failing the shard.
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TokenDoc } from "../../schemas/token-doc.js"
import { hash32 } from "../hashing.js"
import { llamaTokenizer } from "./bpe.js"

/** Where a document's split comes from: a fixed split, its own `split` field, or a hash of its id. */
export type SplitRule = "train" | "validation" | "test" | "from-row" | "by-id"

/** by-id: `heldOut` validation, `heldOut` test, the rest train (stable under re-runs and reordering). */
const splitById = (id: string, heldOut: number): string => {
  const u = hash32(id, 0x5eed) / 2 ** 32
  return u < heldOut ? "validation" : u < 2 * heldOut ? "test" : "train"
}

export const makeTokenize = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>, subset: string, split: SplitRule) =>
  Node.map({
    name,
    version: 1,
    description: `Llama-2 token ids of ${subset} documents (SentencePiece BPE, byte fallback).`,
    input: schema,
    output: TokenDoc,
    worker: true,
    params: Schema.Struct({
      bos: Schema.optionalWith(Schema.Boolean, { default: () => false }),
      eos: Schema.optionalWith(Schema.Boolean, { default: () => false }),
      /** longer documents are dropped (counted), not truncated */
      maxTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 10_000_000 }),
      /** for subsets split by id: the share held out for validation, and again for test */
      heldOut: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 0.5)), { default: () => 0.005 }),
    }),
    report: [
      Cell.table("Tokens per split", "SELECT split, count(*)::BIGINT AS documents, sum(n_tokens)::BIGINT AS tokens, round(avg(n_tokens), 1) AS mean_tokens FROM self GROUP BY 1 ORDER BY 1"),
      Cell.histogram("Document length", "SELECT n_tokens FROM self", { bins: 20, xLabel: "tokens per document" }),
    ],
    setup: async () => llamaTokenizer(),
    row: (doc, p, tokenizer) => {
      if (doc.text.length === 0) return Node.Drop("empty document")
      // a cheap bound first: no piece spans more than maxPieceLength UTF-16 units (+1: the dummy prefix)
      if (doc.text.length + 1 > tokenizer.maxPieceLength * p.maxTokens) return Node.Drop(`longer than ${p.maxTokens} tokens`)
      const tokens = tokenizer.encode(doc.text, { bos: p.bos, eos: p.eos })
      if (tokens.length > p.maxTokens) return Node.Drop(`longer than ${p.maxTokens} tokens`)
      const own = (doc as unknown as { split?: unknown }).split
      const s = split === "from-row" ? (typeof own === "string" ? own : "train") : split === "by-id" ? splitById(doc.id, p.heldOut) : split
      return Node.Keep({ id: doc.id, subset, split: s, tokens, n_tokens: tokens.length })
    },
  })
