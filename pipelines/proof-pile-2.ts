/**
 * Proof-Pile-2 (Llemma): OpenWebMath + AlgebraicStack + arXiv → dedup → overlap → tokens → training.
 * The OpenWebMath branch is here (WARC → prefilter → extract → langid → mathscore → perplexity → filter); the other stages arrive with
 * their issues. `--param owm/warc.paths=GLOB_OR_URL_LIST` selects the input; the default is the
 * embedded sample (samples/owm/*.warc.gz, made by scripts/make-owm-sample.mjs).
 */
import * as Pipeline from "../engine/pipeline.js"
import { extract } from "../nodes/owm/extract.js"
import { filter } from "../nodes/owm/filter.js"
import { langid } from "../nodes/owm/langid.js"
import { mathscore } from "../nodes/owm/mathscore.js"
import { perplexity } from "../nodes/owm/perplexity.js"
import { prefilter } from "../nodes/owm/prefilter.js"
import { warc } from "../nodes/owm/warc.js"

export default Pipeline.make(
  "proof-pile-2",
  (p) => {
    const pages = p.add(warc)
    const mathPages = p.add(prefilter, pages)
    const docs = p.add(extract, mathPages)
    const english = p.add(langid, docs)
    const mathy = p.add(mathscore, english)
    const fluent = p.add(perplexity, mathy)
    const owm = p.add(filter, fluent)
    return { owm }
  },
  { description: "Proof-Pile-2 rebuild — OpenWebMath branch so far: WARC → prefilter → math-preserving extraction → English → MathScore → perplexity → manual filters." }
)
