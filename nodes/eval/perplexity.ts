/**
 * eval/perplexity: held-out perplexity of the trained model per subset, on the validation split:
 * each document cut into windows of context + 1 tokens, next-token NLL summed over every window. A
 * subset without validation tokens gets a row with no perplexity and a counted reason.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import { quoteIdent } from "../../engine/columns.js"
import type { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TokenDoc } from "../../schemas/token-doc.js"
import { compactVocab, decodeCheckpoint, loadTf, TinyLM } from "../train/model.js"

export const PerplexityRow = Schema.Struct({
  subset: Schema.String,
  documents: Schema.Int,
  tokens: Schema.Int,
  nll: Schema.NullOr(Schema.Number),
  perplexity: Schema.NullOr(Schema.Number),
})

export const makeEvalPerplexity = <K extends string>(name: string, subsets: ReadonlyArray<K>) =>
  Node.global({
    name,
    version: 1,
    description: "Held-out perplexity of the trained model per subset (validation split).",
    inputs: { model: Node.File("tinylm"), ...(Object.fromEntries(subsets.map((s) => [s, Node.Dataset(TokenDoc)])) as { [P in K]: Node.DatasetPort<typeof TokenDoc> }) },
    outputs: { perplexity: Node.Dataset(PerplexityRow) },
    params: Schema.Struct({
      /** the held-out splits scored (comma-separated) */
      split: Schema.optionalWith(Schema.String, { default: () => "validation" }),
      /** at most this many tokens per subset are scored (the first documents in id order) */
      maxTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50_000 }),
    }),
    report: [Cell.table("Held-out perplexity per subset", "SELECT subset, documents, tokens, round(nll, 4) AS mean_nll, round(perplexity, 2) AS perplexity FROM self ORDER BY subset")],
    run: (ctx) =>
      Effect.gen(function* () {
        const file = yield* (ctx.inputs as unknown as { model: { path: () => Effect.Effect<string, NodeRunError> } }).model.path() // a mapped input type TypeScript cannot narrow
        const ckpt = decodeCheckpoint(fs.readFileSync(file))
        const { tf } = yield* Effect.promise(() => loadTf("auto"))
        const model = new TinyLM(tf, ckpt.config, ckpt.weights)
        const cv = compactVocab(ckpt.vocabIds)
        const rows: Array<Schema.Schema.Type<typeof PerplexityRow>> = []
        try {
          for (const subset of subsets) {
            const docs = (yield* ctx.sql(`SELECT tokens FROM ${quoteIdent(subset)} WHERE split IN (${ctx.params.split.split(",").map((x) => `'${x.trim().replaceAll("'", "''")}'`).join(", ")}) AND n_tokens > 1 ORDER BY id`)) as Array<{ tokens: Array<number> }>
            const windows: Array<Array<number>> = []
            let budget = ctx.params.maxTokens
            let used = 0
            for (const d of docs) {
              if (budget <= 0) break
              used++
              const ids = cv.toCompact(d.tokens.slice(0, budget + 1))
              budget -= ids.length - 1
              for (let i = 0; i + 1 < ids.length; i += ckpt.config.context) windows.push(ids.slice(i, i + ckpt.config.context + 1))
            }
            const { nll, tokens } = model.nll(windows)
            if (tokens === 0) ctx.drop(`no ${ctx.params.split} tokens in subset ${subset}`, 1)
            rows.push({ subset, documents: used, tokens, nll: tokens ? nll / tokens : null, perplexity: tokens ? Math.exp(nll / tokens) : null })
          }
        } finally {
          model.dispose()
        }
        yield* ctx.outputs.perplexity.write(rows)
      }),
  })
