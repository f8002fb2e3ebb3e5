/**
 * dedup: duplicate removal for any JSONL corpus on its own. MinHash by default (signatures on
 * worker threads, banding and components in DuckDB); SimHash (OpenWebMath's parity option) and
 * exact SHA-256 dedup are there too, each a target of its own.
 *   npx dag run dedup --param docs.paths=my-*.jsonl                          (all three)
 *   npx dag run dedup --param docs.paths=my-*.jsonl --select dedup/minhash   (one)
 * Results: `dag sql "select * from dedup_minhash__clusters"`, the deduplicated corpus in `dedup_minhash__kept`.
 */
import { Pipeline } from "mathdag"
import { makeExactDedup, makeExactHashes, makeMinhash, makeMinhashSignatures, makeSimhash, makeSimhashFingerprints } from "mathdag/nodes/dedup"
import { docs, TextRow } from "mathdag/nodes/sources"

const signatures = makeMinhashSignatures("dedup/minhash-signatures", TextRow)
const minhash = makeMinhash("dedup/minhash", TextRow)
const fingerprints = makeSimhashFingerprints("dedup/simhash-fingerprints", TextRow)
const simhash = makeSimhash("dedup/simhash", TextRow)
const hashes = makeExactHashes("dedup/exact-hashes", TextRow)
const exact = makeExactDedup("dedup/exact", TextRow)

export default Pipeline.make(
  "dedup",
  (p) => {
    const corpus = p.add(docs)
    const { kept, clusters } = p.add(minhash, { docs: corpus, sigs: p.add(signatures, corpus) })
    const { kept: simhashKept } = p.add(simhash, { docs: corpus, sigs: p.add(fingerprints, corpus) })
    const { kept: exactKept } = p.add(exact, { docs: corpus, sigs: p.add(hashes, corpus) })
    return { corpus, kept, clusters, simhashKept, exactKept }
  },
  {
    description: "Duplicate removal of any JSONL corpus: MinHash (default), SimHash and exact; select one with --select.",
    // `dag publish corpus|minhash --to hf://datasets/OWNER/NAME`
    publish: {
      card: {
        prettyName: "A deduplicated JSONL corpus",
        summary: "Documents read from JSON Lines files and deduplicated with MinHash by the mathdag pipeline `dedup`.",
        license: "other",
        language: ["en"],
        taskCategories: ["text-generation"],
      },
      configs: (t) => [
        { name: "corpus", description: "The documents as read from the JSON Lines files.", data: t.corpus! },
        { name: "minhash", description: "The documents MinHash near-duplicate removal kept.", data: t.kept! },
      ],
    },
  }
)
