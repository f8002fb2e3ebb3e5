/**
 * The shared end of every dedup node: duplicate pairs → connected components (in DuckDB) → one kept
 * document per component (the first in input order) → the `kept`, `clusters` and `dropped` outputs.
 */
import { Effect, Schema } from "effect"
import type { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { columnsOf, duckdbType, quoteIdent } from "../../engine/columns.js"
import { sqlString } from "../../engine/store/duckdb.js"

export const Cluster = Schema.Struct({
  id: Schema.String,
  cluster: Schema.String,
  size: Schema.Int,
  representative: Schema.String,
})

export const DroppedDoc = Schema.Struct({ id: Schema.String, reason: Schema.String })

/** Duplicate pairs side by side, for reading: the least similar pairs found, texts shortened. */
export const DuplicatePair = Schema.Struct({
  first_id: Schema.String,
  second_id: Schema.String,
  similarity: Schema.Number,
  first_text: Schema.String,
  second_text: Schema.String,
})

const EXAMPLE_PAIRS = 20
const EXAMPLE_CHARS = 600

type QueryWriter = { writeQuery: (q: string) => Effect.Effect<void, NodeRunError> }

/** The outputs every dedup node has. */
export const dedupOutputs = <A>(schema: Schema.Schema<A, any, never>) => ({
  kept: Node.Dataset(schema),
  clusters: Node.Dataset(Cluster),
  dropped: Node.Dataset(DroppedDoc),
  examples: Node.Dataset(DuplicatePair),
})

/** The report cells every dedup node has. */
export const dedupCells = [
  Cell.histogram("Cluster sizes", "SELECT size FROM (SELECT DISTINCT cluster, size FROM self_clusters)", { bins: 10, xLabel: "documents per cluster" }),
  Cell.table(
    "Duplicates side by side (least similar pairs first: where the threshold bites)",
    "SELECT first_text, second_text, similarity, first_id, second_id FROM self_examples ORDER BY similarity, first_id, second_id",
    {
      limit: EXAMPLE_PAIRS,
    }
  ),
]

/**
 * Given a table `sig(doc, id, …)` with one row per input document (doc = input position) and a table
 * `edges(a, b, similarity)` of duplicate pairs, finds connected components in DuckDB (min-label propagation),
 * keeps each component's first document, and writes the `kept`, `clusters` and `dropped` outputs.
 */
export const writeClusters = (
  ctx: {
    readonly sql: (q: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, NodeRunError>
    readonly drop: (reason: string, count?: number) => void
    readonly outputs: { readonly kept: QueryWriter; readonly clusters: QueryWriter; readonly dropped: QueryWriter; readonly examples: QueryWriter }
  },
  paths: ReadonlyArray<string>,
  reason: string,
  /** reports the step starting now (what the live progress line shows) */
  step: (note: string) => void = () => {}
) =>
  Effect.gen(function* () {
    step("connected components")
    // connected components: every node takes the smallest label among itself and its neighbours until nothing changes
    yield* ctx.sql(`CREATE OR REPLACE TABLE lab AS SELECT doc, doc AS c FROM (SELECT a AS doc FROM edges UNION SELECT b FROM edges)`)
    yield* ctx.sql(`CREATE OR REPLACE TABLE und AS SELECT a AS x, b AS y FROM edges UNION ALL SELECT b, a FROM edges`)
    for (let round = 0; round < 1000; round++) {
      yield* ctx.sql(
        `CREATE OR REPLACE TABLE lab2 AS SELECT l.doc, least(l.c, coalesce(min(n.c), l.c)) AS c FROM lab l LEFT JOIN und u ON u.x = l.doc LEFT JOIN lab n ON n.doc = u.y GROUP BY l.doc, l.c`
      )
      const [changed] = (yield* ctx.sql(`SELECT count(*)::BIGINT AS n FROM lab JOIN lab2 USING (doc) WHERE lab.c <> lab2.c`)) as Array<{ n: number }>
      yield* ctx.sql(`CREATE OR REPLACE TABLE lab AS SELECT * FROM lab2`)
      if (!changed || changed.n === 0) break
    }
    step("clusters and dropped documents")
    yield* ctx.sql(`CREATE OR REPLACE TABLE comp AS
      SELECT l.doc, l.c, s.id, r.id AS rep, count(*) OVER (PARTITION BY l.c) AS size FROM lab l JOIN sig s ON s.doc = l.doc JOIN sig r ON r.doc = l.c`)
    yield* ctx.outputs.clusters.writeQuery(`SELECT id, 'c' || c::VARCHAR AS cluster, size, rep AS representative FROM comp ORDER BY c, doc`)
    yield* ctx.outputs.dropped.writeQuery(`SELECT id, '${reason} of ' || rep AS reason FROM comp WHERE doc <> c ORDER BY doc`)
    const [dups] = (yield* ctx.sql(`SELECT count(*)::BIGINT AS n FROM comp WHERE doc <> c`)) as Array<{ n: number }>
    if (dups && dups.n > 0) ctx.drop(reason, dups.n)
    const files = (yield* ctx.sql(`SELECT file_name AS path, num_rows::BIGINT AS n FROM parquet_file_metadata([${paths.map(sqlString).join(", ")}])`)) as Array<{ path: string; n: number }>
    const rowsOf = new Map(files.map((f) => [f.path, Number(f.n)]))
    const shards = paths.reduce<Array<{ path: string; offset: number; n: number }>>((acc, path) => {
      const last = acc[acc.length - 1]
      return [...acc, { path, offset: last ? last.offset + last.n : 0, n: rowsOf.get(path) ?? 0 }]
    }, [])
    // kept rows: each input shard minus its dropped rows, in its order, as one output shard (no
    // global sort, so memory stays bounded by a shard)
    for (const [i, { path, offset, n }] of shards.entries()) {
      step(`kept documents, shard ${i + 1} of ${shards.length}`)
      yield* ctx.outputs.kept.writeQuery(`SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true)
        ANTI JOIN (SELECT doc - ${offset} AS r FROM comp WHERE doc <> c AND doc >= ${offset} AND doc < ${offset + n}) d ON d.r = file_row_number
        ORDER BY file_row_number`)
    }
    // examples: the least similar duplicate pairs, with their texts read from just the shards holding them
    const pairs = (yield* ctx.sql(`SELECT a::BIGINT AS a, b::BIGINT AS b FROM edges ORDER BY similarity, a, b LIMIT ${EXAMPLE_PAIRS}`)) as Array<{ a: number; b: number }>
    const wanted = [...new Set(pairs.flatMap((p) => [Number(p.a), Number(p.b)]))]
    const reads = shards
      .map(({ path, offset, n }) => ({ path, offset, rows: wanted.filter((d) => d >= offset && d < offset + n).map((d) => d - offset) }))
      .filter((s) => s.rows.length > 0)
      .map(
        (s) =>
          `SELECT ${s.offset} + file_row_number AS doc, id, left(text, ${EXAMPLE_CHARS}) AS text FROM read_parquet(${sqlString(s.path)}, file_row_number = true) WHERE file_row_number IN (${s.rows.join(", ")})`
      )
    if (reads.length > 0) {
      yield* ctx.outputs.examples.writeQuery(`WITH t AS (${reads.join(" UNION ALL ")})
        SELECT x.id AS first_id, y.id AS second_id, e.similarity::DOUBLE AS similarity, x.text AS first_text, y.text AS second_text
        FROM edges e JOIN t x ON x.doc = e.a JOIN t y ON y.doc = e.b ORDER BY e.similarity, e.a, e.b`)
    }
  })

/**
 * The rows of a dataset's shards with `doc`, their 0-based position in input order (file by file,
 * row by row): the same numbering a JS loop over `rows()` gives, without moving rows through JS.
 * Each file's first number comes from the row counts in the Parquet footers, so no window function
 * over the rows (which DuckDB cannot spill) is needed.
 */
export const inInputOrder = (paths: ReadonlyArray<string>): string => {
  const list = `[${paths.map(sqlString).join(", ")}]`
  const order = paths.map((p, i) => `(${sqlString(p)}, ${i})`).join(", ")
  return `WITH files AS (SELECT f.path, f.i, m.num_rows FROM (VALUES ${order}) f(path, i) JOIN parquet_file_metadata(${list}) m ON m.file_name = f.path),
    starts AS (SELECT path, (coalesce(sum(num_rows) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::BIGINT AS start FROM files)
    SELECT (s.start + r.file_row_number)::BIGINT AS doc, r.* EXCLUDE (filename, file_row_number)
    FROM read_parquet(${list}, filename = true, file_row_number = true) r JOIN starts s ON s.path = r.filename`
}

/** No rows, with the columns of the schema (and `doc`): what an empty input reads as. */
const emptyOf = (schema: Schema.Schema<any, any, never>): string =>
  `SELECT NULL::BIGINT AS doc, ${columnsOf(schema)
    .map((c) => `NULL::${duckdbType(c.type)} AS ${quoteIdent(c.name)}`)
    .join(", ")} WHERE false`

/**
 * The global half of every dedup method: per-document values (computed by a map node on worker
 * threads, one row per document in input order) go into a DuckDB table `sig(doc, id, …)` straight
 * from their shards; the method's SQL turns `sig` into duplicate `edges(a, b, similarity)`; the
 * shared end above makes the clusters and outputs.
 */
export const makeDedup = <A extends { readonly id: string; readonly text: string }, S extends { readonly id: string }, P>(def: {
  readonly name: string
  readonly version: number
  readonly description: string
  readonly schema: Schema.Schema<A, any, never>
  readonly sigSchema: Schema.Schema<S, any, never>
  readonly params: Schema.Schema<P, any, never>
  readonly reason: string
  /** empty values for documents that `edges` should never compare */
  readonly sigColumns: string
  readonly edges: (sql: (q: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, NodeRunError>, params: P, log: (m: string) => void) => Effect.Effect<void, NodeRunError>
}) =>
  Node.global({
    name: def.name,
    version: def.version,
    description: def.description,
    inputs: { docs: Node.Dataset(def.schema), sigs: Node.Dataset(def.sigSchema) },
    outputs: dedupOutputs(def.schema),
    params: def.params,
    report: dedupCells,
    run: (ctx) =>
      Effect.gen(function* () {
        const paths = yield* ctx.inputs.docs.paths()
        const sigPaths = yield* ctx.inputs.sigs.paths()
        // no row passes through JS: DuckDB reads the shards itself
        // steps: signatures, candidate pairs, components, clusters, then one per kept shard
        const steps = 4 + paths.length
        let done = 0
        const step = (note: string) => ctx.progress({ done: done++, total: steps, unit: "steps", note })
        step("loading signatures")
        yield* ctx.sql(`CREATE OR REPLACE TABLE sig AS SELECT doc, ${def.sigColumns} FROM (${sigPaths.length ? inInputOrder(sigPaths) : emptyOf(def.sigSchema)})`)
        step("candidate pairs and their similarity")
        yield* def.edges(ctx.sql, ctx.params, ctx.log)
        yield* writeClusters(ctx, paths, def.reason, step)
      }),
  })
