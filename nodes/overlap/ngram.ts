/**
 * overlap/ngram: test-set overlap by shared word n-grams (wellecks/overlap `check_overlap.py`, as used
 * for Llemma): whitespace-split words, n = 30 by default. Every (document, test set, test id, field)
 * pair that shares at least one n-gram is recorded with the number of shared n-grams — upstream keeps
 * only the last hit per document; all are kept here. N-grams are keyed by two independent 32-bit
 * hashes (64 bits), so a false hit needs a double collision.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { hash32 } from "../hashing.js"
import { parseTestSets, readTestSet, type TestExample } from "./testsets.js"

export const OverlapHit = Schema.Struct({
  id: Schema.String,
  test_set: Schema.String,
  test_id: Schema.String,
  field: Schema.String,
  ngrams: Schema.Int,
})

/** Keys of every word n-gram of a text (whitespace split, as upstream). */
export const ngramKeys = (text: string, n: number): Array<string> => {
  const words = text.split(/\s+/).filter(Boolean)
  if (words.length < n) return []
  const a = words.map((w) => hash32(w, 0x811c9dc5))
  const b = words.map((w) => hash32(w, 0x9747b28c))
  const out: Array<string> = []
  for (let i = 0; i + n <= words.length; i++) {
    let x = 0x811c9dc5
    let y = 0x1b873593
    for (let j = 0; j < n; j++) {
      x = Math.imul(x ^ a[i + j]!, 0x01000193)
      y = Math.imul(y ^ b[i + j]!, 0x5bd1e995)
    }
    out.push(`${(x >>> 0).toString(36)}:${(y >>> 0).toString(36)}`)
  }
  return out
}

export const DEFAULT_TEST_SETS = "MATH=samples/overlap/math-test-sample.jsonl,GSM8k=samples/overlap/gsm8k-test-sample.jsonl"

/** The hits cell: the strongest hits of every test set and field, so each summary row has a target. */
export const HITS_CELL = "Hits (up to 10 per test set and field, most shared n-grams first)"
const HITS_SQL = (view: string) =>
  `SELECT test_set, field, test_id, id, ngrams FROM ${view} QUALIFY row_number() OVER (PARTITION BY test_set, field ORDER BY ngrams DESC, id, test_id) <= 10 ORDER BY test_set, field, ngrams DESC, id, test_id`

/**
 * A pipeline-level table over several overlap nodes (one per subset): test examples hit and
 * documents hitting per subset × test set × field, each row linking to that node's hits.
 */
export const overlapSummaryCell = (subsets: ReadonlyArray<{ readonly subset: string; readonly node: string }>): Cell.Cell =>
  Cell.table(
    "Test-set overlap per subset, test set and field",
    subsets
      .map(
        (s) =>
          `SELECT '${s.subset}' AS subset, test_set, field, count(DISTINCT test_id)::BIGINT AS test_examples_hit, count(DISTINCT id)::BIGINT AS documents_hitting, '${s.node}' AS node FROM ${s.node.replace(/[/-]/g, "_")} GROUP BY ALL`
      )
      .join(" UNION ALL ") + " ORDER BY subset, test_set, field",
    { limit: 100, linkTo: { title: HITS_CELL, by: ["test_set", "field"], nodeColumn: "node" } }
  )

export const makeOverlap = <A extends { readonly id: string; readonly text: string }>(name: string, schema: Schema.Schema<A, any, never>) =>
  Node.global({
    name,
    version: 1,
    description: "Test-set overlap: documents sharing word n-grams with MATH / GSM8k test examples.",
    inputs: { docs: Node.Dataset(schema) },
    outputs: { hits: Node.Dataset(OverlapHit) },
    // every document's n-grams are hashed in JavaScript: on a real corpus, minutes of work
    // that would otherwise hold up the main thread
    worker: true,
    params: Schema.Struct({
      n: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 30 }),
      testSets: Schema.optionalWith(Schema.String, { default: () => DEFAULT_TEST_SETS }),
    }),
    report: [
      Cell.table(
        "Overlap per test set and field: test examples hit, documents hitting",
        "SELECT test_set, field, count(DISTINCT test_id)::BIGINT AS test_examples_hit, count(DISTINCT id)::BIGINT AS documents_hitting, sum(ngrams)::BIGINT AS shared_ngrams FROM self GROUP BY 1, 2 ORDER BY 1, 2",
        { linkTo: { title: HITS_CELL, by: ["test_set", "field"] } }
      ),
      Cell.table(HITS_CELL, HITS_SQL("self"), { limit: 500, anchor: ["test_set", "field"] }),
    ],
    externals: (p) => {
      try {
        return parseTestSets(p.testSets).map((s) => s.file)
      } catch {
        return []
      }
    },
    run: (ctx) =>
      Effect.gen(function* () {
        const n = ctx.params.n
        const examples: Array<TestExample> = []
        const sets = yield* Effect.try({ try: () => parseTestSets(ctx.params.testSets), catch: (e) => e as Error }).pipe(Effect.orDie)
        for (const { name: set, file } of sets) {
          const loaded = yield* Effect.try({ try: () => readTestSet(set, file, (reason) => ctx.drop(reason)), catch: (e) => new Error(`test set ${set} (${file}): ${(e as Error).message}`) }).pipe(
            Effect.orDie
          )
          examples.push(...loaded)
        }
        // n-gram → the test examples (set, id, field) containing it
        const index = new Map<string, Array<number>>()
        examples.forEach((ex, k) => {
          for (const key of new Set(ngramKeys(ex.text, n))) {
            const list = index.get(key)
            if (list) list.push(k)
            else index.set(key, [k])
          }
        })
        ctx.log(`${examples.length} test fields, ${index.size} distinct ${n}-grams`)
        const total = ctx.inputs.docs.rowCount
        let seen = 0
        let hits = 0
        yield* ctx.outputs.hits.write(
          (async function* () {
            for await (const doc of ctx.inputs.docs.rows()) {
              if (seen++ % 1000 === 0) ctx.progress({ done: seen - 1, total, unit: "documents", note: `${hits} hits` })
              const keys = ngramKeys(doc.text, n)
              if (keys.length === 0) {
                ctx.drop(doc.text.trim() ? `shorter than ${n} words` : "empty")
                continue
              }
              const counts = new Map<number, number>()
              for (const key of new Set(keys)) for (const k of index.get(key) ?? []) counts.set(k, (counts.get(k) ?? 0) + 1)
              for (const [k, c] of counts) {
                const ex = examples[k]!
                hits++
                yield { id: doc.id, test_set: ex.set, test_id: ex.id, field: ex.field, ngrams: c }
              }
            }
          })()
        )
      }),
  })
