/**
 * eval/perplexity: held-out perplexity of the trained model per subset, on the validation split:
 * each document cut into windows of context + 1 tokens, next-token NLL summed over every window. A
 * subset without validation tokens gets a row with no perplexity and a counted reason.
 */
import { Effect, Schema } from "effect"
import { quoteIdent } from "../../engine/columns.js"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TokenDoc } from "../../schemas/token-doc.js"
import { modelExternals, modelInputs, modelParams, openEvalModel, torchReady } from "./model.js"
import { tfOnOwnThread } from "../train/model.js"

export const PerplexityRow = Schema.Struct({
  subset: Schema.String,
  model: Schema.String,
  documents: Schema.Int,
  tokens: Schema.Int,
  nll: Schema.NullOr(Schema.Number),
  perplexity: Schema.NullOr(Schema.Number),
})

export const makeEvalPerplexity = <K extends string>(name: string, subsets: ReadonlyArray<K>) =>
  Node.global({
    name,
    version: 2,
    description: "Held-out perplexity of the trained model per subset (validation split): the TensorFlow.js tiny LM, or the PyTorch model with trainer=torch.",
    inputs: { ...modelInputs, ...(Object.fromEntries(subsets.map((s) => [s, Node.Dataset(TokenDoc)])) as { [P in K]: Node.DatasetPort<typeof TokenDoc> }) },
    outputs: { perplexity: Node.Dataset(PerplexityRow) },
    params: Schema.Struct({
      /** the held-out splits scored (comma-separated) */
      split: Schema.optionalWith(Schema.String, { default: () => "validation" }),
      /** at most this many tokens per subset are scored (the first documents in id order) */
      maxTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50_000 }),
      ...modelParams,
    }).pipe(Schema.filter(torchReady)),
    externals: modelExternals,
    // TF.js scoring is a long synchronous stretch: off the main thread (see tfOnOwnThread)
    worker: tfOnOwnThread,
    report: [Cell.table("Held-out perplexity per subset", "SELECT subset, model, documents, tokens, round(nll, 4) AS mean_nll, round(perplexity, 2) AS perplexity FROM self ORDER BY subset")],
    run: (ctx) =>
      Effect.scoped(
        Effect.gen(function* () {
          const model = yield* openEvalModel(name, ctx.inputs, ctx.params)
          const rows: Array<Schema.Schema.Type<typeof PerplexityRow>> = []
          for (const [i, subset] of subsets.entries()) {
            ctx.progress({ done: i, total: subsets.length, unit: "subsets", note: subset })
            const splits = ctx.params.split
              .split(",")
              .map((x) => `'${x.trim().replaceAll("'", "''")}'`)
              .join(", ")
            // only the documents the token budget reaches leave DuckDB: memory follows maxTokens, not the subset's size
            const docs = (yield* ctx.sql(
              `SELECT tokens FROM (SELECT id, tokens, coalesce(sum(n_tokens - 1) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before FROM ${quoteIdent(subset)} WHERE split IN (${splits}) AND n_tokens > 1) WHERE before < ${ctx.params.maxTokens} ORDER BY id`
            )) as Array<{ tokens: Array<number> }>
            const windows: Array<Array<number>> = []
            let budget = ctx.params.maxTokens
            let used = 0
            for (const d of docs) {
              if (budget <= 0) break
              used++
              const ids = d.tokens.slice(0, budget + 1)
              budget -= ids.length - 1
              // windows of context + 1 ids overlapping by one: every id after the first is predicted once
              for (let i = 0; i + 1 < ids.length; i += model.window - 1) windows.push(ids.slice(i, i + model.window))
            }
            const { nll, tokens } = yield* Effect.tryPromise({
              try: () => model.nll(windows),
              catch: (e) => new NodeRunError({ node: name, message: `scoring ${subset}: ${(e as Error).message}`, transient: false }),
            })
            if (tokens === 0) ctx.drop(`no ${ctx.params.split} tokens in subset ${subset}`, 1)
            rows.push({ subset, model: model.name, documents: used, tokens, nll: tokens ? nll / tokens : null, perplexity: tokens ? Math.exp(nll / tokens) : null })
          }
          yield* ctx.outputs.perplexity.write(rows)
        })
      ),
  })
