/**
 * The shared end of every dedup node: duplicate pairs → connected components (in DuckDB) → one kept
 * document per component (the first in input order) → the `kept`, `clusters` and `dropped` outputs.
 */
import { Effect, Schema } from "effect"
import type { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import { sqlString } from "../../engine/store/duckdb.js"

export const Cluster = Schema.Struct({
  id: Schema.String,
  cluster: Schema.String,
  size: Schema.Int,
  representative: Schema.String,
})

export const DroppedDoc = Schema.Struct({ id: Schema.String, reason: Schema.String })

/**
 * Given a table `sig(doc, id, …)` with one row per input document (doc = input position) and a table
 * `edges(a, b)` of duplicate pairs, finds connected components in DuckDB (min-label propagation),
 * keeps each component's first document, and writes the `kept`, `clusters` and `dropped` outputs.
 */
export const writeClusters = (
  ctx: {
    readonly sql: (q: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, NodeRunError>
    readonly drop: (reason: string, count?: number) => void
    readonly outputs: { readonly kept: { writeQuery: (q: string) => Effect.Effect<void, NodeRunError> }; readonly clusters: { writeQuery: (q: string) => Effect.Effect<void, NodeRunError> }; readonly dropped: { writeQuery: (q: string) => Effect.Effect<void, NodeRunError> } }
  },
  paths: ReadonlyArray<string>,
  reason: string
) =>
  Effect.gen(function* () {
    // connected components: every node takes the smallest label among itself and its neighbours until nothing changes
    yield* ctx.sql(`CREATE OR REPLACE TABLE lab AS SELECT doc, doc AS c FROM (SELECT a AS doc FROM edges UNION SELECT b FROM edges)`)
    yield* ctx.sql(`CREATE OR REPLACE TABLE und AS SELECT a AS x, b AS y FROM edges UNION ALL SELECT b, a FROM edges`)
    for (let round = 0; round < 1000; round++) {
      yield* ctx.sql(`CREATE OR REPLACE TABLE lab2 AS SELECT l.doc, least(l.c, coalesce(min(n.c), l.c)) AS c FROM lab l LEFT JOIN und u ON u.x = l.doc LEFT JOIN lab n ON n.doc = u.y GROUP BY l.doc, l.c`)
      const [changed] = (yield* ctx.sql(`SELECT count(*)::BIGINT AS n FROM lab JOIN lab2 USING (doc) WHERE lab.c <> lab2.c`)) as Array<{ n: number }>
      yield* ctx.sql(`CREATE OR REPLACE TABLE lab AS SELECT * FROM lab2`)
      if (!changed || changed.n === 0) break
    }
    yield* ctx.sql(`CREATE OR REPLACE TABLE comp AS
      SELECT l.doc, l.c, s.id, r.id AS rep, count(*) OVER (PARTITION BY l.c) AS size FROM lab l JOIN sig s ON s.doc = l.doc JOIN sig r ON r.doc = l.c`)
    yield* ctx.outputs.clusters.writeQuery(`SELECT id, 'c' || c::VARCHAR AS cluster, size, rep AS representative FROM comp ORDER BY c, doc`)
    yield* ctx.outputs.dropped.writeQuery(`SELECT id, '${reason} of ' || rep AS reason FROM comp WHERE doc <> c ORDER BY doc`)
    const [dups] = (yield* ctx.sql(`SELECT count(*)::BIGINT AS n FROM comp WHERE doc <> c`)) as Array<{ n: number }>
    if (dups && dups.n > 0) ctx.drop(reason, dups.n)
    // kept rows: each input shard minus its dropped rows, in its order, as one output shard (no
    // global sort, so memory stays bounded by a shard)
    const files = (yield* ctx.sql(`SELECT file_name AS path, num_rows::BIGINT AS n FROM parquet_file_metadata([${paths.map(sqlString).join(", ")}])`)) as Array<{ path: string; n: number }>
    const rowsOf = new Map(files.map((f) => [f.path, Number(f.n)]))
    let offset = 0
    for (const path of paths) {
      const n = rowsOf.get(path) ?? 0
      yield* ctx.outputs.kept.writeQuery(`SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true)
        ANTI JOIN (SELECT doc - ${offset} AS r FROM comp WHERE doc <> c AND doc >= ${offset} AND doc < ${offset + n}) d ON d.r = file_row_number
        ORDER BY file_row_number`)
      offset += n
    }
  })

/**
 * The rows of a dataset's shards with `doc`, their 0-based position in input order (file by file,
 * row by row): the same numbering a JS loop over `rows()` gives, without moving rows through JS.
 */
export const inInputOrder = (paths: ReadonlyArray<string>): string => {
  const files = paths.map((f, i) => `SELECT ${i} AS f, file_row_number AS r, * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(f)}, file_row_number = true)`).join(" UNION ALL ")
  return `SELECT (row_number() OVER (ORDER BY f, r) - 1)::BIGINT AS doc, * EXCLUDE (f, r) FROM (${files})`
}


/**
 * A dedup node from its two differences: what each document contributes to the `sig` table
 * (columns after `doc` and `id`), and the SQL that turns `sig` into duplicate `edges(a, b)`.
 */
export const makeDedupNode = <A extends { readonly id: string; readonly text: string }, P>(def: {
  readonly name: string
  readonly description: string
  readonly schema: Schema.Schema<A, any, never>
  readonly params: Schema.Schema<P, any, never>
  readonly reason: string
  readonly columns: Readonly<Record<string, string>>
  readonly values: (doc: A, params: P) => ReadonlyArray<unknown>
  readonly edges: (params: P) => string
}) =>
  Node.global({
    name: def.name,
    version: 1,
    description: def.description,
    inputs: { docs: Node.Dataset(def.schema) },
    outputs: { kept: Node.Dataset(def.schema), clusters: Node.Dataset(Cluster), dropped: Node.Dataset(DroppedDoc) },
    params: def.params,
    run: (ctx) =>
      Effect.gen(function* () {
        const paths = yield* ctx.inputs.docs.paths()
        yield* ctx.table(
          "sig",
          { doc: "BIGINT", id: "VARCHAR", ...def.columns },
          (async function* () {
            let doc = 0
            for await (const row of ctx.inputs.docs.rows()) yield [doc++, row.id, ...def.values(row, ctx.params)]
          })()
        )
        yield* ctx.sql(`CREATE OR REPLACE TABLE edges AS ${def.edges(ctx.params)}`)
        yield* writeClusters(ctx, paths, def.reason)
      }),
  })
