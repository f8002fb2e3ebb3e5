/**
 * owm/perplexity: scores each document with an n-gram language model in ARPA format (KenLM's text
 * format) on OpenWebMath-normalised text, and drops documents above the threshold (30,000 by
 * default; OpenWebMath's final filter used 15,000). The default model is the small one the embedded
 * sample ships (samples/owm/owm-lm.arpa, built by scripts/make-owm-lm.mjs).
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as Node from "../../engine/node.js"
import { resolveInput } from "../../engine/paths.js"
import * as Cell from "../../engine/report/cell.js"
import { WebDocument } from "../../schemas/web-document.js"
import { parseArpa, perplexity as score } from "./lm/arpa.js"
import { normalizeForLm } from "./lm/normalize.js"

export const perplexity = Node.map({
  name: "owm/perplexity",
  version: 1,
  description: "Score documents with an ARPA n-gram model; drop those above the perplexity threshold.",
  input: WebDocument,
  output: WebDocument,
  worker: true,
  params: Schema.Struct({
    modelPath: Schema.optionalWith(Schema.String, { default: () => "samples/owm/owm-lm.arpa" }),
    maxPerplexity: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 30_000 }),
  }),
  report: [Cell.histogram("Perplexity of kept documents (log10)", "SELECT log10(perplexity) AS log10_perplexity FROM self", { bins: 20, xLabel: "log10 perplexity" })],
  externals: (p) => [p.modelPath],
  setup: async (p) => parseArpa(fs.readFileSync(resolveInput(p.modelPath), "utf8")),
  row: (doc, p, model) => {
    const value = score(model, normalizeForLm(doc.text))
    if (!Number.isFinite(value)) return Node.Drop("no-tokens")
    if (value > p.maxPerplexity) return Node.Drop("perplexity")
    return Node.Keep({ ...doc, perplexity: value })
  },
})
