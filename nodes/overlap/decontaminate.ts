/**
 * overlap/decontaminate: removes documents with test-set hits (mode "drop", the default), or keeps
 * them all and lists the hit documents in `flagged` (mode "flag").
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import { OverlapHit } from "./ngram.js"

export const Flagged = Schema.Struct({ id: Schema.String, tests: Schema.Array(Schema.String) })

export const makeDecontaminate = <A extends { readonly id: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.global({
    name,
    version: 1,
    description: "Drop (or flag) documents that share n-grams with a test set.",
    inputs: { docs: Node.Dataset(schema), hits: Node.Dataset(OverlapHit) },
    outputs: { kept: Node.Dataset(schema), flagged: Node.Dataset(Flagged) },
    params: Schema.Struct({ mode: Schema.optionalWith(Schema.Literal("drop", "flag"), { default: () => "drop" as const }) }),
    run: (ctx) =>
      Effect.gen(function* () {
        yield* ctx.outputs.flagged.writeQuery(`SELECT id, list(DISTINCT test_set || ':' || test_id ORDER BY test_set || ':' || test_id) AS tests FROM hits GROUP BY id ORDER BY id`)
        if (ctx.params.mode === "flag") {
          yield* ctx.outputs.kept.writeQuery(`SELECT * FROM docs`)
          return
        }
        const [dropped] = (yield* ctx.sql(`SELECT count(*)::BIGINT AS n FROM docs WHERE id IN (SELECT id FROM hits)`)) as Array<{ n: number }>
        if (dropped && dropped.n > 0) ctx.drop("test-set overlap", dropped.n)
        yield* ctx.outputs.kept.writeQuery(`SELECT * FROM docs WHERE id NOT IN (SELECT id FROM hits)`)
      }),
  })
