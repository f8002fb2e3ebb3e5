/**
 * eval/math: few-shot MATH and GSM8k answer accuracy with maj@k. Prompts follow Minerva's format
 * ("Problem: … Solution: … Final Answer: The final answer is X. I hope it is correct."; GSM8k
 * "Question: … Answer: … The answer is X."), with worked examples written by the team. The model
 * under test is the trained tiny LM, or any OpenAI-compatible completions endpoint (`endpoint`,
 * `model`; the key is read from the environment variable named by `apiKeyEnv` and never logged).
 * An endpoint that times out or answers garbage costs that example a counted reason, not the run.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { parseTestSets } from "../overlap/testsets.js"
import { completeRemote, type EndpointError } from "./endpoint.js"
import { type EvalModel, modelExternals, modelInputs, modelParams, openEvalModel, torchReady } from "./model.js"
import { tfOnOwnThread } from "../train/model.js"
import { gsmAnswerOf, gsmGold, majority, mathAnswerOf, mathGold, normalizeMath } from "./answers.js"

export const Prediction = Schema.Struct({
  test_set: Schema.String,
  id: Schema.String,
  gold: Schema.String,
  answers: Schema.Array(Schema.NullOr(Schema.String)),
  majority: Schema.NullOr(Schema.String),
  correct: Schema.Boolean,
})

export const EvalSummary = Schema.Struct({ test_set: Schema.String, model: Schema.String, examples: Schema.Int, k: Schema.Int, accuracy: Schema.Number })

const MATH_SHOTS = [
  [
    "What is the sum of the roots of $x^2 - 7x + 10 = 0$?",
    "By Vieta's formulas the roots of $x^2 + bx + c$ sum to $-b$, so here they sum to $7$.\nFinal Answer: The final answer is $7$. I hope it is correct.",
  ],
  ["Simplify $\\frac{12}{18}$.", "Both numbers are divisible by $6$: $\\frac{12}{18} = \\frac{2}{3}$.\nFinal Answer: The final answer is $\\frac{2}{3}$. I hope it is correct."],
  ["How many positive divisors does $36$ have?", "$36 = 2^2 \\cdot 3^2$, so it has $(2+1)(2+1) = 9$ divisors.\nFinal Answer: The final answer is $9$. I hope it is correct."],
  ["If $3x + 4 = 19$, what is $x$?", "Subtracting $4$ gives $3x = 15$, so $x = 5$.\nFinal Answer: The final answer is $5$. I hope it is correct."],
]

const GSM_SHOTS = [
  ["A baker makes 24 rolls and sells 15. How many rolls are left?", "The baker has 24 - 15 = 9 rolls left. The answer is 9."],
  ["Tom reads 12 pages a day. How many pages does he read in 5 days?", "He reads 12 * 5 = 60 pages. The answer is 60."],
  ["A book costs $8 and a pen costs $2. How much do 3 books and 2 pens cost?", "3 books cost 3 * 8 = 24 dollars and 2 pens cost 2 * 2 = 4 dollars, so 24 + 4 = 28. The answer is 28."],
  ["There are 30 students and 6 fit in each car. How many cars are needed?", "30 / 6 = 5 cars are needed. The answer is 5."],
]

interface Example {
  readonly id: string
  readonly question: string
  readonly gold: string
}

type Kind = "MATH" | "GSM8k"

export const promptFor = (kind: Kind, question: string, shots: number): string =>
  kind === "MATH"
    ? MATH_SHOTS.slice(0, shots)
        .map(([q, a]) => `Problem:\n${q}\n\nSolution:\n${a}\n\n`)
        .join("") + `Problem:\n${question}\n\nSolution:\n`
    : GSM_SHOTS.slice(0, shots)
        .map(([q, a]) => `Question: ${q}\nAnswer: ${a}\n\n`)
        .join("") + `Question: ${question}\nAnswer:`

export const answerOf = (kind: Kind, completion: string): string | undefined => {
  const a = kind === "MATH" ? mathAnswerOf(completion) : gsmAnswerOf(completion)
  return a === undefined ? undefined : kind === "MATH" ? normalizeMath(a) : a
}

/** Test examples from JSON Lines (MATH: problem/solution; GSM8k: question/answer); bad lines counted. */
const readExamples = (kind: Kind, file: string, limit: number, drop: (reason: string) => void): Array<Example> => {
  const out: Array<Example> = []
  const lines = fs.readFileSync(file, "utf8").split("\n")
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue
    if (out.length >= limit) break
    let row: Record<string, unknown>
    try {
      row = JSON.parse(line) as Record<string, unknown>
    } catch {
      drop(`${kind}: invalid JSON line`)
      continue
    }
    const question = kind === "MATH" ? row.problem : row.question
    const gold = kind === "MATH" ? (typeof row.solution === "string" ? mathGold(row.solution) : undefined) : typeof row.answer === "string" ? gsmGold(row.answer) : undefined
    if (typeof question !== "string" || gold === undefined) {
      drop(`${kind}: no question or gold answer`)
      continue
    }
    out.push({ id: String(row.idx ?? row.id ?? i + 1), question, gold: kind === "MATH" ? normalizeMath(gold) : gold })
  }
  return out
}

export const evalMath = Node.global({
  name: "eval/math",
  version: 2,
  description: "Few-shot MATH and GSM8k accuracy (Minerva-style prompts and answers, maj@k): the trained model (tiny LM, or PyTorch with trainer=torch) or an OpenAI-compatible endpoint.",
  inputs: modelInputs,
  outputs: { predictions: Node.Dataset(Prediction), summary: Node.Dataset(EvalSummary) },
  // TF.js generation is a long synchronous stretch: off the main thread (see tfOnOwnThread)
  worker: tfOnOwnThread,
  params: Schema.Struct({
    testSets: Schema.optionalWith(Schema.String, { default: () => "MATH=samples/eval/math-sample.jsonl,GSM8k=samples/eval/gsm8k-sample.jsonl" }),
    limit: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50 }),
    shots: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 4)), { default: () => 4 }),
    k: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
    temperature: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 0.6 }),
    maxNewTokens: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 64 }),
    /** an OpenAI-compatible base URL (…/v1); empty: the trained tiny LM */
    endpoint: Schema.optionalWith(Schema.String, { default: () => "" }),
    model: Schema.optionalWith(Schema.String, { default: () => "" }),
    apiKeyEnv: Schema.optionalWith(Schema.String, { default: () => "OPENAI_API_KEY" }),
    timeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 60_000 }),
    seed: Schema.optionalWith(Schema.Int, { default: () => 1 }),
    ...modelParams,
  }).pipe(Schema.filter(torchReady)),
  externals: (p) => {
    try {
      return [...parseTestSets(p.testSets).map((s) => s.file), ...modelExternals(p)]
    } catch {
      return modelExternals(p) // the run reports the malformed list
    }
  },
  report: [
    Cell.table("Accuracy (ours)", "SELECT test_set, model, examples, k, round(100 * accuracy, 1) AS accuracy_pct FROM self_summary ORDER BY test_set"),
    Cell.markdown(
      "For context, Llemma's reported accuracy (Llemma paper, arXiv 2310.10631): **Llemma 7B** MATH 18.0 % (maj@256 33.5 %), GSM8k 36.4 % (maj@100 54.0 %); **Llemma 34B** MATH 25.0 %, GSM8k 51.5 %. A tiny model trained on the embedded sample scores near zero: the row above shows that the evaluation runs, not that the model can do mathematics."
    ),
    Cell.table("Predictions", "SELECT test_set, id, gold, majority, correct FROM self_predictions ORDER BY test_set, id", { limit: 20 }),
  ],
  run: (ctx) =>
    Effect.scoped(
      Effect.gen(function* () {
        const p = ctx.params
        const sets = yield* Effect.try({
          try: () => parseTestSets(p.testSets).map((s) => ({ ...s, kind: (/gsm/i.test(s.name) ? "GSM8k" : "MATH") as Kind })),
          catch: (e) => new NodeRunError({ node: "eval/math", message: `param testSets: ${(e as Error).message}`, transient: false }),
        })
        const remote = p.endpoint !== ""
        const apiKey = remote ? process.env[p.apiKeyEnv] : undefined
        const local: EvalModel | undefined = remote ? undefined : yield* openEvalModel("eval/math", ctx.inputs, p, p.seed)
        const modelName = remote ? `${p.model || "(default)"} at ${p.endpoint}` : local!.name
        const predictions: Array<Schema.Schema.Type<typeof Prediction>> = []
        const summary: Array<Schema.Schema.Type<typeof EvalSummary>> = []
        let unevaluated = 0
        let inARow = 0
        for (const set of sets) {
          if (!fs.existsSync(set.file))
            return yield* Effect.fail(new NodeRunError({ node: "eval/math", message: `test set ${set.name}: ${set.file} does not exist; set eval/math.testSets=NAME=PATH,…`, transient: false }))
          const examples = readExamples(set.kind, set.file, p.limit, (r) => ctx.drop(r, 1))
          let correct = 0
          for (const [i, ex] of examples.entries()) {
            ctx.progress({ done: i, total: examples.length, unit: `${set.name} examples`, note: `${correct} correct` })
            const prompt = promptFor(set.kind, ex.question, p.shots)
            let completions: Array<string> = []
            const generation = { maxTokens: p.maxNewTokens, temperature: p.k > 1 ? p.temperature : 0, stop: set.kind === "MATH" ? ["\n\nProblem:"] : ["\n\nQuestion:"] }
            if (remote) {
              const r = yield* Effect.promise(() =>
                completeRemote(p.endpoint, p.model, prompt, p.k, { ...generation, timeoutMs: p.timeoutMs, apiKey }).then(
                  (c) => ({ ok: true as const, c }),
                  (e: Error) => ({ ok: false as const, e })
                )
              )
              if (!r.ok) {
                const e = r.e as EndpointError
                if (e.transient) {
                  unevaluated++
                  // a down endpoint fails the node quickly instead of timing out on every example
                  if (++inARow >= 3) break
                  continue
                }
                if (e.status === 401 || e.status === 403 || e.status === 404) {
                  return yield* Effect.fail(
                    new NodeRunError({ node: "eval/math", message: `${e.message} at ${p.endpoint}: check eval/math.endpoint, eval/math.model and the key in $${p.apiKeyEnv}`, transient: false })
                  )
                }
                ctx.drop(`${set.name}: ${r.e.message}`, 1, { id: ex.id })
                continue
              }
              inARow = 0
              completions = r.c
            } else {
              completions = yield* Effect.tryPromise({
                try: () => local!.complete(prompt, p.k, generation),
                catch: (e) => new NodeRunError({ node: "eval/math", message: `${local!.name}: ${(e as Error).message}`, transient: false }),
              })
            }
            const answers = completions.map((c) => answerOf(set.kind, c))
            const maj = majority(answers)
            const ok = maj !== undefined && maj === ex.gold
            if (ok) correct++
            predictions.push({ test_set: set.name, id: ex.id, gold: ex.gold, answers: answers.map((a) => a ?? null), majority: maj ?? null, correct: ok })
          }
          if (unevaluated > 0) {
            return yield* Effect.fail(
              new NodeRunError({
                node: "eval/math",
                message: `${unevaluated} example(s) of ${set.name} could not be evaluated: the endpoint ${p.endpoint} is unreachable or overloaded${inARow >= 3 ? " (stopped after 3 failures in a row)" : ""}; nothing was cached — run again when it answers`,
                transient: true,
              })
            )
          }
          summary.push({ test_set: set.name, model: modelName, examples: examples.length, k: p.k, accuracy: examples.length ? correct / examples.length : 0 })
          ctx.log(`${set.name}: ${correct}/${examples.length} correct (maj@${p.k}, ${modelName})`)
        }
        yield* ctx.outputs.predictions.write(predictions)
        yield* ctx.outputs.summary.write(summary)
      })
    ),
})
