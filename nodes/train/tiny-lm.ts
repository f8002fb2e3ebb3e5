/**
 * train/tiny-lm: a small decoder-only transformer trained in-process (TensorFlow.js) on the packed
 * windows, so every run shows that its corpus trains. Fixed seed; the backend (tfjs-node-gpu when
 * it loads, else wasm, else cpu) is named in the journal and the report. The final checkpoint is an
 * artifact, so an unchanged run is a cache hit; while training, a checkpoint goes to the node's
 * scratch folder every `checkpointEvery` steps and an interrupted run resumes from it. A loss that
 * is not finite stops training with its step number; the last good checkpoint stays in scratch.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { abortable } from "../../engine/abortable.js"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { Sequence } from "../tokens/pack.js"
import { compactVocab, decodeCheckpoint, encodeCheckpoint, loadTf, tfOnOwnThread, TinyLM, type Checkpoint } from "./model.js"

// Outputs hold only what the data and params determine, so every executor and every re-run gives
// the same artifacts; speed and resumption are facts of the run and go to the journal (ctx.log).
export const LossRow = Schema.Struct({ step: Schema.Int, loss: Schema.Number })
export const TrainSummary = Schema.Struct({
  backend: Schema.String,
  steps: Schema.Int,
  tokens: Schema.Int,
  final_loss: Schema.Number,
  parameters: Schema.Int,
  vocab: Schema.Int,
  context: Schema.Int,
})

export const TrainParams = Schema.Struct({
  /** on by default; the `torch` profile turns it off (PyTorch trains instead) */
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  layers: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 2 }),
  heads: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4 }),
  width: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 128 }),
  /** context length; 0: the packed windows' length − 1 */
  context: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
  batch: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 16 }),
  steps: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1000 }),
  learningRate: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1e-3 }),
  /** the model's compact vocabulary: this many most frequent ids (one more id stands for the rest) */
  vocab: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4096 }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 1 }),
  checkpointEvery: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50 }),
  backend: Schema.optionalWith(Schema.Literal("auto", "wasm", "cpu", "tensorflow"), { default: () => "auto" as const }),
})
export type TrainParams = Schema.Schema.Type<typeof TrainParams>

/** Seeded xorshift for batch order. */
export const seeded = (seed: number) => {
  let s = seed >>> 0 || 0x9e3779b9
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
}

/** The training loop, apart from the node so the benchmark times exactly this. */
export const trainLoop = async (opts: {
  readonly windows: ReadonlyArray<ReadonlyArray<number>>
  readonly params: Omit<TrainParams, "enabled">
  readonly resume?: Checkpoint
  readonly onStep?: (step: number, loss: number, tokensPerS: number) => void
  readonly onCheckpoint?: (c: Checkpoint) => Promise<void>
  /** checked between steps: once aborted, a checkpoint is written and training stops */
  readonly signal?: AbortSignal
}): Promise<{ checkpoint: Checkpoint; backend: string; tokens: number; seconds: number; finalLoss: number; parameters: number }> => {
  const p = opts.params
  const { tf, backend } = await loadTf(p.backend)
  const windowLength = opts.windows[0]!.length
  const context = p.context || windowLength - 1
  if (context > windowLength - 1) throw new Error(`context ${context} is longer than the packed windows (${windowLength} tokens): lower train/tiny-lm.context or raise tokens/pack.seqLength`)
  if (p.width % p.heads !== 0) throw new Error(`width ${p.width} is not divisible by heads ${p.heads}`)
  // the compact vocabulary: most frequent ids first, ties by id
  let vocabIds = opts.resume?.vocabIds
  if (!vocabIds) {
    const freq = new Map<number, number>()
    for (const w of opts.windows) for (const id of w) freq.set(id, (freq.get(id) ?? 0) + 1)
    vocabIds = [...freq]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, p.vocab - 1)
      .map(([id]) => id)
  }
  const cv = compactVocab(vocabIds)
  const config = opts.resume?.config ?? { layers: p.layers, heads: p.heads, width: p.width, context, vocab: cv.size }
  const model = new TinyLM(tf, config, opts.resume?.weights, p.seed)
  const optimizer = tf.train.adam(p.learningRate)
  const compact = opts.windows.map((w) => Int32Array.from(cv.toCompact(w.slice(0, context + 1))))
  const rng = seeded(p.seed)
  // batch order: seeded shuffles of the windows, one after another
  const order: Array<number> = []
  const nextWindow = () => {
    if (order.length === 0) {
      const perm = compact.map((_, i) => i)
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1))
        ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
      }
      order.push(...perm)
    }
    return order.shift()!
  }
  const startStep = opts.resume?.step ?? 0
  // replay the data order up to the resumed step, so a resumed run sees the same batches
  for (let s = 0; s < startStep * p.batch; s++) nextWindow()
  if (opts.resume?.meta.optimizer) {
    const saved = opts.resume.meta.optimizer as Array<{ name: string; shape: Array<number>; data: Array<number> }>
    await optimizer.setWeights(saved.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) })))
  }
  const snapshot = async (step: number): Promise<Checkpoint> => ({
    config,
    vocabIds,
    step,
    weights: await model.weights(),
    meta: { optimizer: await Promise.all((await optimizer.getWeights()).map(async (w) => ({ name: w.name, shape: [...w.tensor.shape], data: Array.from(await w.tensor.data()) }))) },
  })
  const started = performance.now()
  let tokens = 0
  let lastLoss = NaN
  let lastGood = opts.resume
  try {
    for (let step = startStep + 1; step <= p.steps; step++) {
      // A macrotask turn per step: timers (progress), signals and aborts get their chance, which
      // they never would between the wasm backend's already-resolved promises.
      await new Promise((r) => setImmediate(r))
      if (opts.signal?.aborted) {
        if (opts.onCheckpoint && step - 1 > (lastGood?.step ?? 0)) await opts.onCheckpoint(await snapshot(step - 1))
        throw new TrainingInterrupted(step - 1)
      }
      const batch = Array.from({ length: p.batch }, () => compact[nextWindow()]!)
      const lossTensor = tf.tidy(() => {
        const x = tf.tensor2d(
          batch.flatMap((w) => Array.from(w)),
          [p.batch, context + 1],
          "int32"
        )
        return optimizer.minimize(() => model.loss(x) as never, true) as unknown as import("@tensorflow/tfjs").Scalar
      })
      const loss = (await lossTensor.data())[0]!
      lossTensor.dispose()
      if (!Number.isFinite(loss)) {
        throw new Error(
          `loss became ${loss} at step ${step}; ${lastGood ? `the last good checkpoint (step ${lastGood.step}) is kept in the node's scratch folder` : "no checkpoint was written yet"}: lower train/tiny-lm.learningRate and run again`
        )
      }
      tokens += p.batch * context
      lastLoss = loss
      opts.onStep?.(step, loss, tokens / ((performance.now() - started) / 1000))
      if (step % p.checkpointEvery === 0 && step < p.steps && opts.onCheckpoint) {
        lastGood = await snapshot(step)
        await opts.onCheckpoint(lastGood)
      }
    }
    const seconds = (performance.now() - started) / 1000
    const checkpoint = await snapshot(p.steps)
    const parameters = Object.values(checkpoint.weights).reduce((a, w) => a + w.data.length, 0)
    return { checkpoint: { ...checkpoint, meta: {} }, backend, tokens, seconds, finalLoss: lastLoss, parameters }
  } finally {
    model.dispose()
    optimizer.dispose()
  }
}

/** Training stopped on request after `step` steps (a checkpoint of that step was written). */
export class TrainingInterrupted extends Error {
  constructor(readonly step: number) {
    super(`training interrupted after step ${step}`)
  }
}

const CHECKPOINT = "checkpoint.tinylm"

/**
 * The checkpoint in scratch, if it was made by exactly this computation (same cache key) and
 * still decodes; anything else is set aside with a note, never resumed and never fatal.
 */
const resumable = (file: string, key: string, log: (m: string) => void): Checkpoint | undefined => {
  if (!fs.existsSync(file)) return undefined
  try {
    const c = decodeCheckpoint(fs.readFileSync(file))
    if (c.meta.key === key) return c
    log(`discarded the checkpoint in ${file}: it was made for another cache key (${String(c.meta.key ?? "none").slice(0, 12)}), not this one (${key.slice(0, 12)})`)
  } catch (e) {
    log(`discarded the checkpoint in ${file}: it does not decode (${(e as Error).message})`)
  }
  fs.rmSync(file, { force: true })
  return undefined
}

export const tinyLm = Node.global({
  name: "train/tiny-lm",
  version: 2,
  description: "A small decoder-only transformer trained on the packed windows (TensorFlow.js; one-hot embeddings; compact vocabulary).",
  inputs: { sequences: Node.Dataset(Sequence) },
  outputs: { model: Node.File("tinylm"), loss: Node.Dataset(LossRow), summary: Node.Dataset(TrainSummary) },
  params: TrainParams,
  // TF.js training is a long synchronous stretch: off the main thread (see tfOnOwnThread)
  worker: tfOnOwnThread,
  report: [
    Cell.line("Training loss", "SELECT step, loss FROM self_loss ORDER BY step", { x: "step", y: "loss", yLabel: "cross-entropy (nats)" }),
    Cell.table("Training run", "SELECT backend, steps, tokens, round(final_loss, 3) AS final_loss, parameters, vocab, context FROM self_summary"),
  ],
  run: (ctx) =>
    Effect.gen(function* () {
      const p = ctx.params
      if (!p.enabled) {
        ctx.log("disabled (train/tiny-lm.enabled=false)")
        yield* ctx.outputs.model.write(async (file) => fs.writeFileSync(file, ""))
        yield* ctx.outputs.loss.write([])
        yield* ctx.outputs.summary.write([])
        return
      }
      const windows: Array<Array<number>> = []
      yield* Effect.promise(async () => {
        for await (const row of ctx.inputs.sequences.rows()) windows.push(row.tokens as Array<number>)
      })
      if (windows.length === 0) {
        return yield* Effect.fail(
          new NodeRunError({ node: "train/tiny-lm", message: "no packed windows to train on: the corpus is shorter than one window; lower tokens/pack.seqLength or add data", transient: false })
        )
      }
      const ckptFile = path.join(ctx.scratch, CHECKPOINT)
      const resume = resumable(ckptFile, ctx.key, ctx.log)
      if (resume) ctx.log(`resuming from the checkpoint of step ${resume.step} in ${ckptFile}`)
      const losses: Array<{ step: number; loss: number }> = []
      // on interruption training writes its checkpoint and stops; that is waited for
      const result = yield* abortable(
        (signal) =>
          trainLoop({
            windows,
            params: p,
            signal,
            ...(resume ? { resume } : {}),
            onStep: (step, loss, tps) => {
              losses.push({ step, loss })
              ctx.progress({ done: step, total: p.steps, unit: "steps", note: `loss ${loss.toFixed(3)} · ${tps.toFixed(0)} tokens/s` })
              if (step === 1 || step % 10 === 0 || step === p.steps) ctx.log(`step ${step} loss ${loss.toFixed(4)} (${tps.toFixed(0)} tokens/s)`)
            },
            onCheckpoint: async (c) => {
              fs.mkdirSync(ctx.scratch, { recursive: true })
              const tmp = `${ckptFile}.${process.pid}.tmp`
              fs.writeFileSync(tmp, encodeCheckpoint({ ...c, meta: { ...c.meta, key: ctx.key } }))
              fs.renameSync(tmp, ckptFile)
            },
          }),
        (e) => new NodeRunError({ node: "train/tiny-lm", message: (e as Error).message, transient: false })
      )
      ctx.log(
        `backend ${result.backend}: ${result.tokens} tokens in ${result.seconds.toFixed(1)} s (${(result.tokens / result.seconds).toFixed(0)} tokens/s)${resume ? `, resumed from step ${resume.step}` : ""}, final loss ${result.finalLoss.toFixed(4)}`
      )
      yield* ctx.outputs.model.write(async (file) => fs.writeFileSync(file, encodeCheckpoint(result.checkpoint)))
      yield* ctx.outputs.loss.write(losses)
      yield* ctx.outputs.summary.write([
        {
          backend: result.backend,
          steps: p.steps,
          tokens: result.tokens,
          final_loss: result.finalLoss,
          parameters: result.parameters,
          vocab: result.checkpoint.config.vocab,
          context: result.checkpoint.config.context,
        },
      ])
    }),
})
