/** A small JSON file artifact: corpus totals and the top words. */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as Node from "../../engine/node.js"
import { TextDoc } from "../../schemas/text-doc.js"
import { WordStat } from "../../schemas/word-count.js"

export const summary = Node.global({
  name: "demo/summary",
  version: 1,
  description: "Totals as a JSON file artifact.",
  inputs: { docs: Node.Dataset(TextDoc), top: Node.Dataset(WordStat) },
  outputs: { summary: Node.File("json") },
  run: (ctx) =>
    Effect.gen(function* () {
      const [totals] = yield* ctx.sql(`SELECT count(*)::BIGINT AS docs, sum(length(text))::BIGINT AS chars FROM docs`)
      const top = yield* ctx.sql(`SELECT word, count FROM top ORDER BY count DESC, word LIMIT 10`)
      yield* ctx.outputs.summary.write((file) => fs.writeFile(file, JSON.stringify({ ...totals, top }, null, 2)))
    }),
})
