/** docs: any corpus as JSON Lines with `id` and `text` (or `content`), local or hf://: a generic source (the overlap and dedup pipelines read their corpus with it). */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import { fileIdOf, lineRangeOf, listFiles, localFile } from "../files.js"
import { cutJsonl } from "../units/jsonl.js"
import { jsonLines } from "../jsonl.js"

export const TextRow = Schema.Struct({ id: Schema.String, text: Schema.String })

export const docs = Node.source({
  name: "docs",
  version: 1,
  description: "JSON Lines documents ({id, text}) to check for test-set overlap.",
  params: Schema.Struct({ paths: Schema.optionalWith(Schema.String, { default: () => "samples/arxiv/*.jsonl" }) }),
  output: TextRow,
  units: (p) => listFiles("docs", p.paths, cutJsonl),
  worker: true,
  read: async function* (unit, _p, ctx) {
    const file = await localFile(unit)
    for await (const { index, row } of jsonLines(file, ctx.drop, lineRangeOf(unit))) {
      const text = typeof row.text === "string" ? row.text : typeof row.content === "string" ? row.content : undefined
      if (text === undefined) {
        ctx.drop("no-text", { line: index + 1 })
        continue
      }
      if (text.trim().length === 0) {
        ctx.drop("empty", { line: index + 1 })
        continue
      }
      const meta = row.meta as { arxiv_id?: unknown } | undefined
      const id = typeof row.id === "string" || typeof row.id === "number" ? String(row.id) : typeof meta?.arxiv_id === "string" ? meta.arxiv_id : `${fileIdOf(unit)}#${index + 1}`
      yield { id, text }
    }
  },
})
