/** Counts the words of each document (one output row per distinct word). */
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TextDoc } from "../../schemas/text-doc.js"
import { WordCount } from "../../schemas/word-count.js"

export const words = Node.map({
  name: "demo/words",
  version: 1,
  description: "Per-document word counts.",
  input: TextDoc,
  output: WordCount,
  report: [Cell.table("Richest paragraphs", "SELECT id, count(*)::BIGINT AS distinct_words, sum(count)::BIGINT AS words FROM self GROUP BY id ORDER BY words DESC, id LIMIT 5")],
  row: (doc) => {
    const counts = new Map<string, number>()
    for (const w of doc.text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1)
    if (counts.size === 0) return Node.Drop("no-words")
    return Node.KeepAll([...counts].map(([word, count]) => ({ id: doc.id, word, count })))
  },
})
