/**
 * Proof-Pile-2 (Llemma): OpenWebMath + AlgebraicStack + arXiv → dedup → overlap → tokens → training.
 * Here so far: the OpenWebMath branch (WARC → prefilter → extract → langid → mathscore → perplexity →
 * filter), AlgebraicStack (The Stack → language rules → splits; GitHub formal files → rules → chunk
 * dedup → splits) and arXiv (RedPajama JSONL → per-file splits).
 * `--param owm/warc.paths=…`, `stack/source.paths=…` and `stack/github-source.paths=…` select inputs;
 * the defaults are the embedded samples (scripts/make-owm-sample.mjs, scripts/make-stack-sample.mjs).
 */
import { Pipeline } from "mathdag"
import { ArxivDoc } from "mathdag/schemas/arxiv-doc"
import { CodeFile } from "mathdag/schemas/code-file"
import { WebDocument } from "mathdag/schemas/web-document"
import { arxivLoad } from "mathdag/nodes/arxiv"
import { makeMinhash, makeMinhashSignatures } from "mathdag/nodes/dedup"
import { evalMath, makeEvalPerplexity } from "mathdag/nodes/eval"
import { makeDecontaminate, makeOverlap, overlapSummaryCell } from "mathdag/nodes/overlap"
import { extract, filter, langid, mathscore, perplexity, prefilter, warc } from "mathdag/nodes/owm"
import { chunkDedup, githubFilter, githubSource, githubSplit, stackFilter, stackSource, stackSplit } from "mathdag/nodes/stack"
import { makeMix, makeTokenize, pack } from "mathdag/nodes/tokens"
import { tinyLm, torchTrain } from "mathdag/nodes/train"

const owmSignatures = makeMinhashSignatures("dedup/minhash-signatures", WebDocument)
const owmDedup = makeMinhash("dedup/minhash", WebDocument)
// one overlap check and decontamination per subset (their row types differ)
const owmOverlap = makeOverlap("overlap/ngram", WebDocument)
const owmDecontaminate = makeDecontaminate("overlap/decontaminate", WebDocument)
const stackOverlap = makeOverlap("overlap/ngram-stack", CodeFile)
const stackDecontaminate = makeDecontaminate("overlap/decontaminate-stack", CodeFile)
const arxivOverlap = makeOverlap("overlap/ngram-arxiv", ArxivDoc)
const arxivDecontaminate = makeDecontaminate("overlap/decontaminate-arxiv", ArxivDoc)

// tokens, mixture, packing, a tiny model and its evaluation
const SUBSETS = ["arxiv", "open-web-math", "algebraic-stack"] as const
const owmTokens = makeTokenize("tokens/tokenize-owm", WebDocument, "open-web-math", "by-id")
const stackTokens = makeTokenize("tokens/tokenize-stack", CodeFile, "algebraic-stack", "train")
const stackValidationTokens = makeTokenize("tokens/tokenize-stack-validation", CodeFile, "algebraic-stack", "validation")
const arxivTokens = makeTokenize("tokens/tokenize-arxiv", ArxivDoc, "arxiv", "from-row")
const mix = makeMix("tokens/mix", SUBSETS)
const evalPerplexity = makeEvalPerplexity("eval/perplexity", SUBSETS)

export default Pipeline.make(
  "proof-pile-2",
  (p) => {
    const pages = p.add(warc)
    const mathPages = p.add(prefilter, pages)
    const docs = p.add(extract, mathPages)
    const english = p.add(langid, docs)
    const mathy = p.add(mathscore, english)
    const fluent = p.add(perplexity, mathy)
    const filtered = p.add(filter, fluent)
    const { kept: deduped } = p.add(owmDedup, { docs: filtered, sigs: p.add(owmSignatures, filtered) })
    const { kept: owm } = p.add(owmDecontaminate, { docs: deduped, hits: p.add(owmOverlap, { docs: deduped }).hits })

    const stackFiles = p.add(stackFilter, p.add(stackSource))
    const { kept: stackClean } = p.add(stackDecontaminate, { docs: stackFiles, hits: p.add(stackOverlap, { docs: stackFiles }).hits })
    const stack = p.add(stackSplit, { files: stackClean })
    const { kept: github } = p.add(chunkDedup, { files: p.add(githubFilter, p.add(githubSource)) })
    const githubSplits = p.add(githubSplit, { files: github })
    const papers = p.add(arxivLoad)
    const { kept: arxiv } = p.add(arxivDecontaminate, { docs: papers, hits: p.add(arxivOverlap, { docs: papers }).hits })

    const owmT = p.add(owmTokens, owm)
    const stackT = p.add(stackTokens, stack.train)
    const arxivT = p.add(arxivTokens, arxiv)
    const { mixed, mixture } = p.add(mix, { arxiv: arxivT, "open-web-math": owmT, "algebraic-stack": stackT })
    const { sequences, documents } = p.add(pack, { docs: mixed, mixture })
    const { model, loss } = p.add(tinyLm, { sequences })
    // PyTorch (CUDA when available): off unless `--profile torch` (or train/torch.enabled=true)
    const torch = p.add(torchTrain, { sequences })
    // the evaluation nodes score train/tiny-lm's model, or train/torch's with trainer=torch
    const models = { model, torchModel: torch.model, torchConfig: torch.config, torchTokenizer: torch.tokenizer }
    const { perplexity: ppl } = p.add(evalPerplexity, { ...models, arxiv: arxivT, "open-web-math": owmT, "algebraic-stack": p.add(stackValidationTokens, stack.validation) })
    const { summary: evalSummary } = p.add(evalMath, models)
    return { owm, stackTrain: stack.train, githubTrain: githubSplits.train, arxiv, documents, model, loss, ppl, evalSummary, torchModel: torch.model }
  },
  {
    report: [
      overlapSummaryCell([
        { subset: "OpenWebMath", node: owmOverlap.name },
        { subset: "AlgebraicStack", node: stackOverlap.name },
        { subset: "arXiv", node: arxivOverlap.name },
      ]),
    ],
    description:
      "Proof-Pile-2 rebuild, end to end: OpenWebMath (WARC → prefilter → math-preserving extraction → English → MathScore → perplexity → manual filters) AlgebraicStack (The Stack language rules; GitHub formal-math files with chunk dedup; seeded splits) and arXiv (RedPajama JSONL, per-file splits); then Llama-2 tokens, the 2:4:1 mixture, packing, a tiny TensorFlow.js model, held-out perplexity and MATH/GSM8k accuracy.",
  }
)
