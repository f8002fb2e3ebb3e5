/**
 * owm/mathscore: P(math) per document (OpenWebMath step 5, docs/proof-pile-2.md): keep when math was found and the score
 * is ≥ 0.15, or when the score is ≥ 0.8 without found math. The default scorer is the logistic
 * regression in nodes/owm/data/mathscore-model.json (see nodes/owm/mathscore/model.ts and
 * scripts/train-mathscore.mjs); `modelPath` loads a fastText classifier instead, whose
 * `positiveLabel` probability is the score.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Node from "../../engine/node.js"
import { packageRoot, resolveInput } from "../../engine/paths.js"
import * as Cell from "../../engine/report/cell.js"
import { WebDocument } from "../../schemas/web-document.js"
import { loadFastText } from "./fasttext.js"
import { predict, type MathScoreModel } from "./mathscore/model.js"

export type Scorer = (text: string) => number

let bundled: MathScoreModel | undefined
/** The shipped model, loaded once per thread. */
export const bundledModel = (): MathScoreModel => (bundled ??= JSON.parse(fs.readFileSync(path.join(packageRoot(), "nodes/owm/data/mathscore-model.json"), "utf8")) as MathScoreModel)

const fastTextScorer = async (file: string, label: string): Promise<Scorer> => {
  const ft = await loadFastText(file)
  return (text) => ft.predict(text.replace(/\s+/g, " ").slice(0, 4000), -1, 0).get(label) ?? 0
}

export const loadScorer = async (modelPath: string, label: string): Promise<Scorer> => {
  if (!modelPath) {
    const model = bundledModel()
    return (text) => predict(model, text)
  }
  return fastTextScorer(resolveInput(modelPath), label)
}

export const mathscore = Node.map({
  name: "owm/mathscore",
  version: 1,
  description: "Score how mathematical each document is; keep ≥ 0.15 when math was found, else ≥ 0.8.",
  input: WebDocument,
  output: WebDocument,
  worker: true,
  params: Schema.Struct({
    withMathThreshold: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.15 }),
    withoutMathThreshold: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.8 }),
    /** a fastText classifier file; empty: the bundled logistic-regression model */
    modelPath: Schema.optionalWith(Schema.String, { default: () => "" }),
    positiveLabel: Schema.optionalWith(Schema.String, { default: () => "__label__math" }),
  }),
  report: [Cell.histogram("Math score of kept documents", "SELECT math_score FROM self", { bins: 20, xLabel: "math score" })],
  externals: (p) => [p.modelPath || "nodes/owm/data/mathscore-model.json"],
  setup: (p) => loadScorer(p.modelPath, p.positiveLabel),
  row: (doc, p, score) => {
    const s = score(doc.text)
    const keep = doc.math_found ? s >= p.withMathThreshold : s >= p.withoutMathThreshold
    return keep ? Node.Keep({ ...doc, math_score: s }) : Node.Drop("low-math-score")
  },
})
