/**
 * stack/filter: AlgebraicStack's per-language rules (nodes/stack/rules.ts). Faithful to the
 * released dataset by default; `fixUpstreamBugs=true` applies the corrected rules. TeX files are
 * checked for English with the same fastText model as owm/langid.
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { CodeFile } from "../../schemas/code-file.js"
import { loadLanguageModel } from "../owm/langid.js"
import { stackRule } from "./rules.js"

export const stackFilter = Node.map({
  name: "stack/filter",
  version: 1,
  description: "AlgebraicStack language rules: standard size/density filter and per-language math markers.",
  input: CodeFile,
  output: CodeFile,
  worker: true,
  params: Schema.Struct({ fixUpstreamBugs: Schema.optionalWith(Schema.Boolean, { default: () => false }) }),
  report: [
    Cell.bar("Files kept per language", "SELECT lang, count(*)::BIGINT AS files FROM self GROUP BY 1 ORDER BY 2 DESC", { x: "lang", y: "files" }),
    Cell.table("Bytes and files per language", "SELECT lang, count(*)::BIGINT AS files, sum(strlen(text))::BIGINT AS bytes FROM self GROUP BY 1 ORDER BY bytes DESC"),
    Cell.samples("Kept files"),
  ],
  setup: async () => loadLanguageModel(""),
  row: (file, p, lid) => {
    const r = stackRule(file, {
      variant: p.fixUpstreamBugs ? "fixed" : "faithful",
      isEnglish: (text) => {
        const [label] = [...lid.predict(text.replace(/\s+/g, " ").slice(0, 2000), 1)][0] ?? [""]
        return label === "__label__en"
      },
    })
    return "reason" in r ? Node.Drop(`${file.lang.toLowerCase()}: ${r.reason}`) : Node.Keep({ ...file, text: r.text })
  },
})
