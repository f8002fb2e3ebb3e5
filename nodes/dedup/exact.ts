/**
 * dedup/exact: documents whose normalised text (lowercase, whitespace collapsed, trimmed) has the same
 * SHA-256 are duplicates; the first in input order is kept. Hashes go to DuckDB, not to a JS set.
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"
import { makeDedupNode } from "./clusters.js"

export const normalisedHash = (text: string): string => createHash("sha256").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex")

export const makeExactDedup = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  makeDedupNode({
    name,
    description: "Exact duplicates by SHA-256 of normalised text.",
    schema,
    params: Schema.Struct({}),
    reason: "exact-duplicate",
    columns: { h: "VARCHAR" },
    values: (doc) => [normalisedHash(doc.text)],
    edges: () => `SELECT f.first AS a, s.doc AS b FROM sig s JOIN (SELECT h, min(doc) AS first FROM sig GROUP BY h HAVING count(*) > 1) f USING (h) WHERE s.doc <> f.first`,
  })
