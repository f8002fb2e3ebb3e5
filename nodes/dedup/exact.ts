/**
 * dedup/exact: documents whose normalised text (lowercase, whitespace collapsed, trimmed) has the same
 * SHA-256 are duplicates; the first in input order is kept. Hashes are computed by a map node on
 * worker threads and grouped in DuckDB, not in a JS set.
 */
import { Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import * as Node from "../../engine/node.js"
import { makeDedup } from "./clusters.js"

export const normalisedHash = (text: string): string => createHash("sha256").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex")

export const TextHash = Schema.Struct({ id: Schema.String, h: Schema.String })

export const makeExactHashes = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.map({
    name,
    version: 1,
    description: "SHA-256 of each document's normalised text.",
    input: schema,
    output: TextHash,
    worker: true,
    row: (doc) => Node.Keep({ id: doc.id, h: normalisedHash(doc.text) }),
  })

export const makeExactDedup = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  makeDedup({
    name,
    version: 3,
    description: "Exact duplicates by SHA-256 of normalised text.",
    schema,
    sigSchema: TextHash,
    params: Schema.Struct({}),
    reason: "exact-duplicate",
    sigColumns: "id, h",
    edges: (sql) =>
      sql(`CREATE OR REPLACE TABLE edges AS SELECT f.first AS a, s.doc AS b, 1.0 AS similarity FROM sig s
        JOIN (SELECT h, min(doc) AS first FROM sig GROUP BY h HAVING count(*) > 1) f USING (h) WHERE s.doc <> f.first`).pipe(Effect.asVoid),
  })
