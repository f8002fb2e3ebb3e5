/**
 * overlap: checks any corpus for test-set overlap on its own.
 *   npx dag run overlap --param docs.paths=my.jsonl --param overlap/ngram.testSets=MATH=MATH_test.jsonl,GSM8k=gsm8k_test.jsonl
 * Hits: `dag sql "select * from overlap_ngram limit 5"`; the decontaminated corpus: `overlap_decontaminate__kept`.
 */
import { Pipeline } from "mathdag"
import { makeDecontaminate, makeOverlap } from "mathdag/nodes/overlap"
import { docs, TextRow } from "mathdag/nodes/sources"

const overlap = makeOverlap("overlap/ngram", TextRow)
const decontaminate = makeDecontaminate("overlap/decontaminate", TextRow)

export default Pipeline.make(
  "overlap",
  (p) => {
    const corpus = p.add(docs)
    const { hits } = p.add(overlap, { docs: corpus })
    const { kept } = p.add(decontaminate, { docs: corpus, hits })
    return { hits, kept }
  },
  { description: "Test-set overlap of any JSONL corpus (word n-grams against MATH / GSM8k), and the corpus without the hit documents." }
)
