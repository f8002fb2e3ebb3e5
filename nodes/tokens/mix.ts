/**
 * tokens/mix: the training mixture of Proof-Pile-2 (gpt-neox `configs/data_mixture.yml`: arXiv 2,
 * OpenWebMath 4, AlgebraicStack 1; other sources can be added). A sample of a training stream
 * comes from subset i with probability w_i / Σw, so subset i gets that share of the tokens. By
 * default the token budget is the smallest that uses every document of every subset at least once
 * (the subset with the most tokens per unit of weight is read once, the others are repeated);
 * repeats are whole epochs, each in its own seeded order, the last one cut where the share is met.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TokenDoc } from "../../schemas/token-doc.js"
import { NodeRunError } from "../../engine/errors.js"
import { sqlString } from "../../engine/store/duckdb.js"

export const MixedDoc = Schema.Struct({
  subset: Schema.String,
  id: Schema.String,
  epoch: Schema.Int,
  tokens: Schema.Array(Schema.Int),
  n_tokens: Schema.Int,
})

export const MixtureRow = Schema.Struct({
  subset: Schema.String,
  weight: Schema.Number,
  planned_share: Schema.Number,
  documents: Schema.Int,
  tokens: Schema.Int,
  mixed_tokens: Schema.Int,
  achieved_share: Schema.Number,
  epochs: Schema.Number,
})

export const DEFAULT_WEIGHTS = "arxiv=2,open-web-math=4,algebraic-stack=1"

export const parseWeights = (spec: string): Array<{ subset: string; weight: number }> =>
  spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [subset, w] = item.split("=")
      const weight = Number(w)
      if (!subset || !Number.isFinite(weight) || weight < 0) throw new Error(`bad mixture weight "${item}": expected SUBSET=WEIGHT with WEIGHT ≥ 0`)
      return { subset, weight }
    })

/** A mix over one tokenized dataset per subset; input names are the subset names. */
export const makeMix = <K extends string>(name: string, subsets: ReadonlyArray<K>) =>
  Node.global({
    name,
    version: 1,
    description: "Training mixture by weight (arXiv 2 : OpenWebMath 4 : AlgebraicStack 1), seeded; planned and achieved token shares.",
    inputs: Object.fromEntries(subsets.map((s) => [s, Node.Dataset(TokenDoc)])) as { [P in K]: Node.DatasetPort<typeof TokenDoc> },
    outputs: { mixed: Node.Dataset(MixedDoc), mixture: Node.Dataset(MixtureRow) },
    params: Schema.Struct({
      weights: Schema.optionalWith(
        // checked when params are resolved, so a typo fails before anything runs
        Schema.String.pipe(
          Schema.filter((spec) => {
            try {
              const ws = parseWeights(spec)
              const unknown = ws.filter((w) => !(subsets as ReadonlyArray<string>).includes(w.subset)).map((w) => w.subset)
              if (unknown.length) return `unknown subset(s) ${unknown.join(", ")}: this mix has ${subsets.join(", ")}`
              if (!ws.some((w) => w.weight > 0)) return "at least one subset needs a weight above 0"
              return true
            } catch (e) {
              return (e as Error).message
            }
          })
        ),
        { default: () => DEFAULT_WEIGHTS }
      ),
      seed: Schema.optionalWith(Schema.Int, { default: () => 1234 }),
      /** total training tokens; 0: the smallest budget that uses every document at least once */
      totalTokens: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
    }),
    report: [
      Cell.table(
        "Tokens per subset and the mixture, planned vs achieved",
        "SELECT subset, weight, documents, tokens, mixed_tokens, round(planned_share, 4) AS planned_share, round(achieved_share, 4) AS achieved_share, round(epochs, 2) AS epochs FROM self_mixture ORDER BY subset"
      ),
      Cell.bar("Achieved token share", "SELECT subset, achieved_share FROM self_mixture ORDER BY subset", { x: "subset", y: "achieved_share", yLabel: "share of training tokens" }),
    ],
    run: (ctx) =>
      Effect.gen(function* () {
        const weights = yield* Effect.try({
          try: () => parseWeights(ctx.params.weights),
          catch: (e) => new NodeRunError({ node: name, message: `param weights: ${(e as Error).message}`, transient: false }),
        })
        const known = new Set<string>(subsets)
        for (const w of weights) if (!known.has(w.subset)) ctx.log(`weight for "${w.subset}" ignored: this mix has subsets ${subsets.join(", ")}`)
        const weightOf = new Map(weights.map((w) => [w.subset, w.weight]))
        // Token lists stay in the inputs' Parquet until the final write: the planning tables hold only
        // ids, counts and where each document is (input shard, row), a small fraction of the corpus.
        const shardsOf = new Map<string, ReadonlyArray<string>>()
        for (const s of subsets) shardsOf.set(s, yield* (ctx.inputs[s] as { paths: () => Effect.Effect<ReadonlyArray<string>, NodeRunError> }).paths())
        const located = subsets.filter((s) => shardsOf.get(s)!.length > 0)
        yield* ctx.sql(`CREATE TABLE docs (subset VARCHAR, id VARCHAR, n_tokens BIGINT, shard VARCHAR, "row" BIGINT)`)
        for (const s of located) {
          yield* ctx.sql(
            `INSERT INTO docs SELECT subset, id, n_tokens, filename, file_row_number FROM read_parquet([${shardsOf.get(s)!.map(sqlString).join(", ")}], filename = true, file_row_number = true) WHERE split = 'train' AND n_tokens > 0`
          )
        }
        const counts = (yield* ctx.sql(`SELECT subset, count(*)::BIGINT AS documents, sum(n_tokens)::BIGINT AS tokens FROM docs GROUP BY 1`)) as Array<{
          subset: string
          documents: number
          tokens: number
        }>
        const tokensOf = new Map(counts.map((c) => [c.subset, c]))
        const active = subsets.filter((s) => (weightOf.get(s) ?? 0) > 0 && (tokensOf.get(s)?.tokens ?? 0) > 0)
        for (const s of subsets) {
          if ((weightOf.get(s) ?? 0) > 0 && !tokensOf.get(s)) ctx.drop(`empty subset ${s}: its weight is left out and the others renormalised`, 1)
        }
        if (active.length === 0) {
          ctx.log("no subset has both a weight and training tokens: the mixture is empty")
          return
        }
        const sumW = active.reduce((a, s) => a + weightOf.get(s)!, 0)
        const total = ctx.params.totalTokens || Math.max(...active.map((s) => (tokensOf.get(s)!.tokens * sumW) / weightOf.get(s)!))
        const targets = active.map((s) => {
          const target = Math.round((total * weightOf.get(s)!) / sumW)
          return { subset: s, target, epochs: Math.max(1, Math.ceil(target / tokensOf.get(s)!.tokens)) }
        })
        yield* ctx.sql(`CREATE TABLE targets AS SELECT * FROM (VALUES ${targets.map((t) => `(${sqlString(t.subset)}, ${t.target}::BIGINT, ${t.epochs})`).join(", ")}) v(subset, target, epochs)`)
        // each epoch in its own seeded order; a document is taken while the tokens before it are under the target
        yield* ctx.sql(`CREATE TABLE mixed AS
          WITH rep AS (SELECT d.*, e.epoch::BIGINT AS epoch FROM docs d JOIN targets t USING (subset), range(t.epochs) e(epoch)),
          ord AS (SELECT *, sum(n_tokens) OVER (PARTITION BY subset ORDER BY epoch, hash(id, epoch, ${ctx.params.seed}), id, shard, "row" ROWS UNBOUNDED PRECEDING) - n_tokens AS before FROM rep)
          SELECT subset, id, epoch, n_tokens, shard, "row" FROM ord JOIN targets USING (subset) WHERE before < target`)
        // Written input shard by input shard, each in (epoch, row) order: what is sorted at once is
        // one shard's documents times its epochs, never the whole mixture.
        for (const s of [...active].sort()) {
          for (const shard of shardsOf.get(s)!) {
            yield* ctx.outputs.mixed.writeQuery(`SELECT t.subset, t.id, m.epoch, t.tokens, t.n_tokens
              FROM read_parquet(${sqlString(shard)}, file_row_number = true) t
              JOIN (SELECT epoch, "row" FROM mixed WHERE subset = ${sqlString(s)} AND shard = ${sqlString(shard)}) m ON m."row" = t.file_row_number
              ORDER BY m.epoch, t.file_row_number`)
          }
        }
        yield* ctx.outputs.mixture.writeQuery(`WITH m AS (SELECT subset, sum(n_tokens)::BIGINT AS mixed_tokens FROM mixed GROUP BY 1),
          w AS (SELECT * FROM (VALUES ${subsets.map((s) => `(${sqlString(s)}, ${weightOf.get(s) ?? 0}::DOUBLE)`).join(", ")}) v(subset, weight))
          SELECT w.subset, w.weight, CASE WHEN c.tokens > 0 THEN w.weight / ${sumW} ELSE 0 END AS planned_share,
            coalesce(c.documents, 0)::BIGINT AS documents, coalesce(c.tokens, 0)::BIGINT AS tokens, coalesce(m.mixed_tokens, 0)::BIGINT AS mixed_tokens,
            coalesce(m.mixed_tokens, 0) / (SELECT sum(mixed_tokens) FROM m) AS achieved_share,
            CASE WHEN c.tokens > 0 THEN coalesce(m.mixed_tokens, 0) / c.tokens ELSE 0 END AS epochs
          FROM w LEFT JOIN (SELECT subset, documents, tokens FROM (VALUES ${counts.length ? counts.map((c) => `(${sqlString(c.subset)}, ${c.documents}, ${c.tokens})`).join(", ") : "('', 0, 0)"}) v(subset, documents, tokens)) c USING (subset)
          LEFT JOIN m USING (subset)
          ORDER BY w.subset`)
      }),
  })
