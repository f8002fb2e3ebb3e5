/**
 * dedup/minhash: near-duplicate removal over any dataset with `id` and `text`. Signatures are computed
 * here (nodes/dedup/signature.ts) and appended to DuckDB, one row per document; banding, candidate
 * pairs, the estimated-Jaccard check and connected components (min-label propagation) run in DuckDB
 * SQL, which spills to disk, so memory stays bounded. Each component keeps its first document in input
 * order; the others are dropped as near-duplicates of it.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { Cluster, DroppedDoc, writeClusters } from "./clusters.js"
import { bandHashes, bandingThreshold, minHasher } from "./signature.js"

const Params = Schema.Struct({
  shingle: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 5 }),
  permutations: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 128 }),
  bands: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 }),
  rows: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 8 }),
  /** estimated Jaccard a candidate pair needs to count as a duplicate */
  threshold: Schema.optionalWith(Schema.Number, { default: () => 0.7 }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 1 }),
})

const hex = (sig: Uint32Array) => {
  let s = ""
  for (const v of sig) s += v.toString(16).padStart(8, "0")
  return s
}

export const makeMinhash = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.global({
    name,
    version: 1,
    description: "MinHash near-duplicate removal: signatures in TypeScript, banding and components in DuckDB.",
    inputs: { docs: Node.Dataset(schema) },
    outputs: { kept: Node.Dataset(schema), clusters: Node.Dataset(Cluster), dropped: Node.Dataset(DroppedDoc) },
    params: Params,
    report: [
      Cell.histogram("Cluster sizes", "SELECT size FROM (SELECT DISTINCT cluster, size FROM self)", { bins: 10, xLabel: "documents per cluster" }),
    ],
    run: (ctx) =>
      Effect.gen(function* () {
        const p = ctx.params
        if (p.bands * p.rows > p.permutations) return yield* Effect.die(new Error(`bands × rows (${p.bands * p.rows}) exceeds permutations (${p.permutations})`))
        ctx.log(`banding ${p.bands} × ${p.rows}: pairs become candidates around Jaccard ${bandingThreshold(p.bands, p.rows).toFixed(3)}`)
        const hasher = minHasher(p.permutations, p.shingle, p.seed)
        const paths = yield* ctx.inputs.docs.paths()
        const bandCols = Object.fromEntries(Array.from({ length: p.bands }, (_, i) => [`b${i}`, "BIGINT"]))
        let short = 0
        yield* ctx.table(
          "sig",
          { doc: "BIGINT", id: "VARCHAR", sig: "VARCHAR", ...bandCols },
          (async function* () {
            let doc = 0
            for await (const row of ctx.inputs.docs.rows()) {
              const sig = hasher.signature(row.text)
              if (!sig) {
                short++
                yield [doc++, row.id, null, ...Array.from({ length: p.bands }, () => null)]
                continue
              }
              yield [doc++, row.id, hex(sig), ...bandHashes(sig, p.bands, p.rows)]
            }
          })()
        )
        if (short) ctx.log(`${short} documents are shorter than ${p.shingle} words: kept, never compared`)
        const bandList = Array.from({ length: p.bands }, (_, i) => `b${i}`).join(", ")
        yield* ctx.sql(`CREATE OR REPLACE TABLE candidates AS
          WITH b AS (SELECT doc, unnest(range(${p.bands})) AS band, unnest([${bandList}]) AS h FROM sig WHERE sig IS NOT NULL)
          SELECT DISTINCT x.doc AS a, y.doc AS b FROM b x JOIN b y ON x.band = y.band AND x.h = y.h AND x.doc < y.doc`)
        yield* ctx.sql(`CREATE OR REPLACE TABLE edges AS
          SELECT c.a, c.b FROM candidates c JOIN sig x ON x.doc = c.a JOIN sig y ON y.doc = c.b
          WHERE len(list_filter(range(${p.permutations}), i -> substr(x.sig, i * 8 + 1, 8) = substr(y.sig, i * 8 + 1, 8))) >= ${p.threshold} * ${p.permutations}`)
        yield* writeClusters(ctx, paths, "near-duplicate")
      }),
  })
