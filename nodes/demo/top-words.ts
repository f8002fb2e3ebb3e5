/** The corpus's most frequent words, aggregated in DuckDB over all shards. */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { WordCount, WordStat } from "../../schemas/word-count.js"

export const topWords = Node.global({
  name: "demo/top-words",
  version: 1,
  description: "Top words by total count (DuckDB aggregate over every shard).",
  inputs: { words: Node.Dataset(WordCount) },
  outputs: { top: Node.Dataset(WordStat) },
  report: [Cell.bar("Most frequent words", "SELECT word, count FROM self ORDER BY count DESC, word LIMIT 15", { x: "word", y: "count", yLabel: "occurrences" })],
  params: Schema.Struct({
    limit: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 25 }),
    minLength: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 4 }),
  }),
  run: (ctx) =>
    ctx.outputs.top.writeQuery(
      `SELECT word, sum(count)::BIGINT AS count, count(DISTINCT id)::BIGINT AS docs
       FROM words WHERE length(word) >= ${ctx.params.minLength}
       GROUP BY word ORDER BY count DESC, word LIMIT ${ctx.params.limit}`
    ),
})
