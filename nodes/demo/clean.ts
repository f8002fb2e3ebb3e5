/** Normalises whitespace and drops paragraphs too short to say anything. */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { TextDoc } from "../../schemas/text-doc.js"

export const clean = Node.map({
  name: "demo/clean",
  version: 1,
  description: "Collapse whitespace; drop short paragraphs.",
  input: TextDoc,
  output: TextDoc,
  worker: true,
  report: [
    Cell.markdown("Whitespace runs become one space; paragraphs shorter than `minChars` are dropped as **too-short**."),
    Cell.histogram("Paragraph length after cleaning", "SELECT length(text) AS chars FROM self", { bins: 12, xLabel: "characters" }),
  ],
  params: Schema.Struct({
    minChars: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 40 }),
    lowercase: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  }),
  row: (doc, p) => {
    const text = doc.text.replace(/\s+/g, " ").trim()
    if (text.length < p.minChars) return Node.Drop("too-short")
    return Node.Keep({ ...doc, text: p.lowercase ? text.toLowerCase() : text })
  },
})
