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
    const { hits: owmHits } = p.add(owmOverlap, { docs: deduped })
    const { kept: owm } = p.add(owmDecontaminate, { docs: deduped, hits: owmHits })

    const stackFiles = p.add(stackFilter, p.add(stackSource))
    const { hits: stackHits } = p.add(stackOverlap, { docs: stackFiles })
    const { kept: stackClean } = p.add(stackDecontaminate, { docs: stackFiles, hits: stackHits })
    const stack = p.add(stackSplit, { files: stackClean })
    const { kept: github } = p.add(chunkDedup, { files: p.add(githubFilter, p.add(githubSource)) })
    const githubSplits = p.add(githubSplit, { files: github })
    const papers = p.add(arxivLoad)
    const { hits: arxivHits } = p.add(arxivOverlap, { docs: papers })
    const { kept: arxiv } = p.add(arxivDecontaminate, { docs: papers, hits: arxivHits })

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
    const stackValidationT = p.add(stackValidationTokens, stack.validation)
    const { perplexity: ppl } = p.add(evalPerplexity, { ...models, arxiv: arxivT, "open-web-math": owmT, "algebraic-stack": stackValidationT })
    const { summary: evalSummary } = p.add(evalMath, models)
    return {
      ...{ owm, arxiv, documents, model, loss, ppl, evalSummary, torchModel: torch.model },
      // what `dag publish` reads (see `publish` below)
      ...{ owmT, arxivT, stackT, stackValidationT, owmHits, stackHits, arxivHits },
      ...{ stackTrain: stack.train, stackValidation: stack.validation, stackTest: stack.test },
      ...{ githubTrain: githubSplits.train, githubValidation: githubSplits.validation, githubTest: githubSplits.test },
    }
  },
  {
    publish: {
      card: {
        prettyName: "Proof-Pile-2 (mathdag rebuild)",
        summary:
          'A rebuild of Proof-Pile-2, the corpus the Llemma models were trained on (Azerbayev et al., 2023, "Llemma: An Open Language Model For Mathematics"): scientific papers (arXiv), web pages with mathematics (OpenWebMath) and mathematical code (AlgebraicStack), made by the mathdag pipeline `proof-pile-2`.',
        license: "other",
        licenseDetails:
          "Each subset keeps the terms of its sources: arXiv papers under their authors' licences, OpenWebMath pages under Common Crawl's terms of use, AlgebraicStack files under the licences of their repositories (the Stack's permissive set).",
        language: ["en"],
        taskCategories: ["text-generation"],
        citation:
          "@article{azerbayev2023llemma,\n  title={Llemma: An Open Language Model For Mathematics},\n  author={Azerbayev, Zhangir and Schoelkopf, Hailey and Paster, Keiran and Dos Santos, Marco and McAleer, Stephen and Jiang, Albert Q. and Deng, Jia and Biderman, Stella and Welleck, Sean},\n  journal={arXiv preprint arXiv:2310.10631},\n  year={2023}\n}",
      },
      configs: (t) => [
        {
          name: "arxiv",
          description: "LaTeX sources of arXiv papers (RedPajama's arXiv subset), with the split each paper belongs to, after test-set decontamination.",
          data: t.arxiv!,
          split: "column",
          tokens: t.arxivT!,
          overlap: t.arxivHits!,
        },
        {
          name: "open-web-math",
          description:
            "Mathematical web pages from Common Crawl WARC files: prefiltered, extracted with their LaTeX kept, English, MathScore and perplexity filtered, near-duplicates removed (MinHash), decontaminated; splits as the tokenizer assigned them (by id).",
          data: t.owm!,
          split: t.owmT!,
          tokens: t.owmT!,
          overlap: t.owmHits!,
        },
        {
          name: "algebraic-stack",
          description:
            "Mathematical code: files from The Stack kept by AlgebraicStack's per-language rules, plus formal mathematics files from GitHub with chunk-level deduplication; seeded train/validation/test splits.",
          data: { train: [t.stackTrain!, t.githubTrain!], validation: [t.stackValidation!, t.githubValidation!], test: [t.stackTest!, t.githubTest!] },
          tokens: [t.stackT!, t.stackValidationT!],
          overlap: t.stackHits!,
        },
      ],
    },
    // what `dag runs` and the report compare across runs
    metrics: {
      "owm docs": "SELECT count(*) FROM overlap_decontaminate__kept",
      "arxiv docs": "SELECT count(*) FROM overlap_decontaminate_arxiv__kept",
      "code files": "SELECT (SELECT count(*) FROM overlap_decontaminate_stack__kept) + (SELECT count(*) FROM stack_chunk_dedup)",
      tokens: "SELECT sum(tokens) FROM tokens_mix__mixture",
      loss: "SELECT coalesce((SELECT final_loss FROM train_torch__summary), (SELECT final_loss FROM train_tiny_lm__summary))",
      "owm ppl": "SELECT perplexity FROM eval_perplexity WHERE subset = 'open-web-math'",
      "MATH acc": "SELECT accuracy FROM eval_math__summary WHERE test_set = 'MATH'",
    },
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
