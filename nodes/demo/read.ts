/** Reads text files, one shard per file, one row per paragraph. */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TextDoc } from "../../schemas/text-doc.js"
import { listFiles } from "../files.js"

const utf8 = new TextDecoder("utf-8", { fatal: true })

export const read = Node.source({
  name: "demo/read",
  version: 1,
  description: "Text files → paragraphs (one shard per file).",
  params: Schema.Struct({
    paths: Schema.optionalWith(Schema.String, { default: () => "samples/demo/*.txt" }),
  }),
  output: TextDoc,
  report: [
    Cell.line("Paragraph length along each file", "SELECT source, CAST(split_part(id, '#', 2) AS INTEGER) AS paragraph, length(text) AS chars FROM self", {
      x: "paragraph",
      y: "chars",
      series: "source",
      xLabel: "paragraph number",
      yLabel: "characters",
    }),
  ],
  units: (p) => listFiles("demo/read", p.paths),
  read: function* (unit, _p, ctx) {
    let text: string
    try {
      text = utf8.decode(fs.readFileSync(unit.file as string))
    } catch {
      ctx.drop("invalid-utf8")
      return
    }
    let n = 0
    for (const para of text.split(/\n\s*\n/)) {
      n++
      if (para.trim() === "") continue
      yield { id: `${unit.id}#${n}`, source: unit.id, text: para }
    }
  },
})
