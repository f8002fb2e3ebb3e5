/**
 * dedup/exact: documents whose normalised text (lowercase, whitespace collapsed, trimmed) has the same
 * SHA-256 are duplicates; the first in input order is kept. Hashes go to DuckDB, not to a JS set.
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as Node from "../../engine/node.js"
import type { Schema } from "effect"
import { Cluster, DroppedDoc, writeClusters } from "./clusters.js"

export const normalisedHash = (text: string): string => createHash("sha256").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex")

export const makeExactDedup = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.global({
    name,
    version: 1,
    description: "Exact duplicates by SHA-256 of normalised text.",
    inputs: { docs: Node.Dataset(schema) },
    outputs: { kept: Node.Dataset(schema), clusters: Node.Dataset(Cluster), dropped: Node.Dataset(DroppedDoc) },
    run: (ctx) =>
      Effect.gen(function* () {
        const paths = yield* ctx.inputs.docs.paths()
        yield* ctx.table(
          "sig",
          { doc: "BIGINT", id: "VARCHAR", h: "VARCHAR" },
          (async function* () {
            let doc = 0
            for await (const row of ctx.inputs.docs.rows()) yield [doc++, row.id, normalisedHash(row.text)]
          })()
        )
        yield* ctx.sql(`CREATE OR REPLACE TABLE edges AS SELECT f.first AS a, s.doc AS b FROM sig s JOIN (SELECT h, min(doc) AS first FROM sig GROUP BY h HAVING count(*) > 1) f USING (h) WHERE s.doc <> f.first`)
        yield* writeClusters(ctx, paths, "exact-duplicate")
      }),
  })
