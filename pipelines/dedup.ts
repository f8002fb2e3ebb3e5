/**
 * dedup: near-duplicate removal for any JSONL corpus on its own (MinHash: signatures on worker
 * threads, banding and components in DuckDB).
 *   npx dag run dedup --param docs.paths=my-*.jsonl
 * Results: `dag sql "select * from dedup_minhash__clusters"`, the deduplicated corpus in `dedup_minhash__kept`.
 */
import * as Pipeline from "../engine/pipeline.js"
import { makeMinhash, makeMinhashSignatures } from "../nodes/dedup/minhash.js"
import { docs, TextRow } from "../nodes/overlap/docs.js"

const signatures = makeMinhashSignatures("dedup/minhash-signatures", TextRow)
const minhash = makeMinhash("dedup/minhash", TextRow)

export default Pipeline.make(
  "dedup",
  (p) => {
    const corpus = p.add(docs)
    const { kept, clusters } = p.add(minhash, { docs: corpus, sigs: p.add(signatures, corpus) })
    return { kept, clusters }
  },
  { description: "MinHash near-duplicate removal of any JSONL corpus." }
)
