/**
 * A small decoder-only transformer in TensorFlow.js: token + position embeddings, pre-norm blocks
 * of causal multi-head attention and a ReLU MLP, a final norm and an output projection.
 *
 * Embedding is one-hot × matrix, because the wasm backend has no gradient for gather
 * (UnsortedSegmentSum). The model sees a compact vocabulary: the `vocab` most frequent Llama-2 ids
 * of its training data, and one more id for every other token, which keeps the one-hot products
 * and the softmax small enough for a CPU.
 */
import { createRequire } from "node:module"
import * as path from "node:path"
import { reclaimCrashHandlers } from "../../engine/crash.js"

type Tf = typeof import("@tensorflow/tfjs")
type Tensor = import("@tensorflow/tfjs").Tensor
type Variable = import("@tensorflow/tfjs").Variable

const load = createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)

export interface ModelConfig {
  readonly layers: number
  readonly heads: number
  readonly width: number
  readonly context: number
  /** compact vocabulary size, the out-of-vocabulary id included */
  readonly vocab: number
}

let tfReady: Promise<{ tf: Tf; backend: string }> | undefined

/**
 * Whether TF.js work goes to a worker thread of its own (`Node.global({ worker })`). Not where the
 * native TensorFlow backend (tfjs-node-gpu) is installed: its addon loads in one thread of a process
 * only (tensorflow/tfjs issue 8388), so training and both evaluations share the main thread there;
 * its ops run on TensorFlow's own threads anyway. The wasm and cpu backends are plain JavaScript
 * and WebAssembly on the calling thread, which is what froze progress.
 */
export const tfOnOwnThread = (): boolean => {
  try {
    load.resolve("@tensorflow/tfjs-node-gpu")
    return false
  } catch {
    return true
  }
}

/**
 * TensorFlow.js with the first backend that loads: `tensorflow` (tfjs-node-gpu, an optional
 * dependency) when asked for or in `auto`, else `wasm`, else `cpu`.
 */
export const loadTf = (want: "auto" | "wasm" | "cpu" | "tensorflow" = "auto"): Promise<{ tf: Tf; backend: string }> =>
  (tfReady ??= (async () => {
    // the full package: tfjs-core alone registers no gradients
    const tf = load("@tensorflow/tfjs") as Tf
    const tried: Array<string> = []
    if (want === "auto" || want === "tensorflow") {
      try {
        load("@tensorflow/tfjs-node-gpu")
        if (await tf.setBackend("tensorflow")) return { tf, backend: "tensorflow (tfjs-node-gpu)" }
      } catch (e) {
        tried.push(`tensorflow: ${(e as Error).message.split("\n")[0]}`)
        if (want === "tensorflow") throw new Error(`backend tensorflow did not load (${tried.join("; ")}); install @tensorflow/tfjs-node-gpu or use backend=wasm`)
      }
    }
    if (want !== "cpu") {
      try {
        const wasm = load("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm")
        wasm.setWasmPaths(path.dirname(load.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + path.sep)
        const ready = await tf.setBackend("wasm")
        // the backend's Emscripten runtime just added an uncaughtException handler that rethrows
        reclaimCrashHandlers()
        if (ready) return { tf, backend: "wasm" }
      } catch (e) {
        tried.push(`wasm: ${(e as Error).message.split("\n")[0]}`)
      }
    }
    await tf.setBackend("cpu")
    return { tf, backend: tried.length ? `cpu (${tried.join("; ")})` : "cpu" }
  })())

/** Deterministic initial weights (a seeded normal draw per tensor, scaled by 1/√fan-in). */
const initWeights = (config: ModelConfig, seed: number): Record<string, { shape: Array<number>; data: Float32Array }> => {
  let state = seed >>> 0 || 1
  const uniform = () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return (state + 0.5) / 2 ** 32
  }
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
  const w: Record<string, { shape: Array<number>; data: Float32Array }> = {}
  const make = (name: string, shape: Array<number>, scale: number | "ones" | "zeros") => {
    const n = shape.reduce((a, b) => a * b, 1)
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) data[i] = scale === "ones" ? 1 : scale === "zeros" ? 0 : normal() * scale
    w[name] = { shape, data }
  }
  const d = config.width
  make("tok", [config.vocab, d], 0.02)
  make("pos", [config.context, d], 0.02)
  for (let l = 0; l < config.layers; l++) {
    make(`l${l}.ln1.g`, [d], "ones")
    make(`l${l}.ln1.b`, [d], "zeros")
    for (const m of ["q", "k", "v", "o"]) make(`l${l}.${m}`, [d, d], 1 / Math.sqrt(d))
    make(`l${l}.ln2.g`, [d], "ones")
    make(`l${l}.ln2.b`, [d], "zeros")
    make(`l${l}.up`, [d, 4 * d], 1 / Math.sqrt(d))
    make(`l${l}.upb`, [4 * d], "zeros")
    make(`l${l}.down`, [4 * d, d], 1 / Math.sqrt(4 * d))
    make(`l${l}.downb`, [d], "zeros")
  }
  make("lnf.g", [d], "ones")
  make("lnf.b", [d], "zeros")
  make("out", [d, config.vocab], 1 / Math.sqrt(d))
  return w
}

export class TinyLM {
  readonly vars: Record<string, Variable>
  /**
   * matMul whose gradient transposes explicitly: the wasm backend's matMul with a transposed
   * operand (what the built-in gradient uses) runs 10-15× slower than a transpose and a plain matMul.
   */
  private readonly mm: (a: Tensor, b: Tensor) => Tensor

  constructor(
    readonly tf: Tf,
    readonly config: ModelConfig,
    weights?: Record<string, { shape: Array<number>; data: Float32Array }>,
    seed = 1
  ) {
    const swap = (t: Tensor) =>
      t.rank === 2
        ? tf.transpose(t)
        : tf.transpose(
            t,
            [...t.shape.keys()].map((i, _, all) => (i === all.length - 2 ? all.length - 1 : i === all.length - 1 ? all.length - 2 : i))
          )
    this.mm = tf.customGrad((a, b, save) => {
      ;(save as (ts: Array<Tensor>) => void)([a as Tensor, b as Tensor])
      return {
        value: tf.matMul(a as Tensor, b as Tensor),
        gradFunc: (dy, saved) => [tf.matMul(dy as Tensor, swap(saved[1]!)), tf.matMul(swap(saved[0]!), dy as Tensor)],
      }
    }) as (a: Tensor, b: Tensor) => Tensor
    const init = weights ?? initWeights(config, seed)
    // Variables are made in name order: Adam keeps its moments by position, so a model rebuilt from
    // a checkpoint must register its variables in the order of the run that saved them.
    this.vars = Object.fromEntries(
      Object.keys(init)
        .sort()
        .map((k) => [k, tf.variable(tf.tensor(init[k]!.data, init[k]!.shape, "float32"), true, `tinylm/${k}/${Math.random().toString(36).slice(2)}`)])
    )
  }

  private layerNorm(x: Tensor, g: Tensor, b: Tensor): Tensor {
    const { tf } = this
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b)
  }

  /** Logits [batch, time, vocab] for ids [batch, time] (time ≤ context). */
  logits(ids: Tensor): Tensor {
    const { tf, config } = this
    const swapLast = (t: Tensor) => tf.transpose(t, [0, 1, 3, 2])
    const v = this.vars
    const [batch, time] = ids.shape as [number, number]
    const d = config.width
    const h = config.heads
    const dh = d / h
    const onehot = tf.oneHot(tf.reshape(ids, [batch * time]), config.vocab)
    let x = tf.reshape(this.mm(onehot, v.tok!), [batch, time, d])
    x = tf.add(x, tf.slice(v.pos!, [0, 0], [time, d]))
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([time, time]), -1, 0)), -1e9)
    for (let l = 0; l < config.layers; l++) {
      const a = tf.reshape(this.layerNorm(x, v[`l${l}.ln1.g`]!, v[`l${l}.ln1.b`]!), [batch * time, d])
      const heads = (w: Tensor) => tf.transpose(tf.reshape(this.mm(a, w), [batch, time, h, dh]), [0, 2, 1, 3])
      const q = heads(v[`l${l}.q`]!)
      const k = heads(v[`l${l}.k`]!)
      const val = heads(v[`l${l}.v`]!)
      const att = tf.softmax(tf.add(tf.div(this.mm(q, swapLast(k)), Math.sqrt(dh)), mask))
      const mixed = tf.reshape(tf.transpose(this.mm(att, val), [0, 2, 1, 3]), [batch * time, d])
      x = tf.add(x, tf.reshape(this.mm(mixed, v[`l${l}.o`]!), [batch, time, d]))
      const m = tf.reshape(this.layerNorm(x, v[`l${l}.ln2.g`]!, v[`l${l}.ln2.b`]!), [batch * time, d])
      const up = tf.relu(tf.add(this.mm(m, v[`l${l}.up`]!), v[`l${l}.upb`]!))
      x = tf.add(x, tf.reshape(tf.add(this.mm(up, v[`l${l}.down`]!), v[`l${l}.downb`]!), [batch, time, d]))
    }
    const f = tf.reshape(this.layerNorm(x, v["lnf.g"]!, v["lnf.b"]!), [batch * time, d])
    return tf.reshape(this.mm(f, v.out!), [batch, time, config.vocab])
  }

  /** Mean next-token cross-entropy (nats) of windows [batch, time + 1]. */
  loss(windows: Tensor): Tensor {
    const { tf } = this
    const [batch, len] = windows.shape as [number, number]
    const input = tf.slice(windows, [0, 0], [batch, len - 1])
    const target = tf.reshape(tf.slice(windows, [0, 1], [batch, len - 1]), [batch * (len - 1)])
    const logits = tf.reshape(this.logits(input), [batch * (len - 1), this.config.vocab])
    const logp = tf.logSoftmax(logits)
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(target, this.config.vocab), logp), -1)))
  }

  /** Summed next-token negative log-likelihood and the number of predicted tokens. */
  nll(windows: Array<Array<number>>): { nll: number; tokens: number } {
    const { tf } = this
    let total = 0
    let count = 0
    for (const w of windows) {
      if (w.length < 2) continue
      const value = tf.tidy(() => this.loss(tf.tensor2d([w], [1, w.length], "int32")).dataSync()[0]!)
      total += value * (w.length - 1)
      count += w.length - 1
    }
    return { nll: total, tokens: count }
  }

  /** Samples `max` more ids after `prompt` (temperature 0: greedy), stopping at any id in `stop`. */
  generate(prompt: ReadonlyArray<number>, max: number, temperature: number, rng: () => number, stop: ReadonlySet<number> = new Set()): Array<number> {
    const { tf, config } = this
    const ids = [...prompt]
    const out: Array<number> = []
    for (let i = 0; i < max; i++) {
      const window = ids.slice(-config.context)
      const probs = tf.tidy(() => {
        const logits = tf.slice(this.logits(tf.tensor2d([window], [1, window.length], "int32")), [0, window.length - 1, 0], [1, 1, config.vocab])
        return temperature > 0 ? tf.softmax(tf.div(tf.reshape(logits, [config.vocab]), temperature)).dataSync() : tf.reshape(logits, [config.vocab]).dataSync()
      })
      let next = 0
      if (temperature > 0) {
        let u = rng()
        for (next = 0; next < probs.length - 1 && (u -= probs[next]!) > 0; next++);
      } else for (let j = 1; j < probs.length; j++) if (probs[j]! > probs[next]!) next = j
      if (stop.has(next)) break
      ids.push(next)
      out.push(next)
    }
    return out
  }

  /** Weights as plain arrays (for checkpoints). */
  async weights(): Promise<Record<string, { shape: Array<number>; data: Float32Array }>> {
    const out: Record<string, { shape: Array<number>; data: Float32Array }> = {}
    for (const [k, v] of Object.entries(this.vars)) out[k] = { shape: [...v.shape], data: (await v.data()) as Float32Array }
    return out
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose()
  }
}

// ------------------------------------------------------------------ checkpoints

export interface Checkpoint {
  readonly config: ModelConfig
  /** compact id → Llama-2 id; the last compact id stands for every other token */
  readonly vocabIds: ReadonlyArray<number>
  readonly step: number
  readonly weights: Record<string, { shape: Array<number>; data: Float32Array }>
  /** Adam's moments and the data position, so a resumed run continues where it stopped */
  readonly meta: Record<string, unknown>
}

/** One file: a u32 header length, a JSON header (config, vocabulary, shapes), then float32 data. */
export const encodeCheckpoint = (c: Checkpoint): Buffer => {
  const names = Object.keys(c.weights).sort()
  const header = Buffer.from(
    JSON.stringify({ format: "mathdag-tinylm-1", config: c.config, vocabIds: c.vocabIds, step: c.step, meta: c.meta, tensors: names.map((n) => ({ name: n, shape: c.weights[n]!.shape })) })
  )
  const parts = [Buffer.alloc(4), header, ...names.map((n) => Buffer.from(c.weights[n]!.data.buffer, c.weights[n]!.data.byteOffset, c.weights[n]!.data.byteLength))]
  parts[0]!.writeUInt32LE(header.length, 0)
  return Buffer.concat(parts)
}

export const decodeCheckpoint = (buf: Buffer): Checkpoint => {
  const len = buf.readUInt32LE(0)
  const header = JSON.parse(buf.subarray(4, 4 + len).toString("utf8")) as {
    format: string
    config: ModelConfig
    vocabIds: Array<number>
    step: number
    meta: Record<string, unknown>
    tensors: Array<{ name: string; shape: Array<number> }>
  }
  if (header.format !== "mathdag-tinylm-1") throw new Error(`not a tiny-LM checkpoint (format ${header.format})`)
  let off = 4 + len
  const weights: Record<string, { shape: Array<number>; data: Float32Array }> = {}
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    const data = new Float32Array(n)
    Buffer.from(data.buffer).set(buf.subarray(off, off + 4 * n))
    off += 4 * n
    weights[t.name] = { shape: t.shape, data }
  }
  return { config: header.config, vocabIds: header.vocabIds, step: header.step, meta: header.meta, weights }
}

/** Maps Llama-2 ids into the compact vocabulary and back. */
export const compactVocab = (vocabIds: ReadonlyArray<number>) => {
  const index = new Map(vocabIds.map((id, i) => [id, i]))
  const oov = vocabIds.length
  return {
    size: vocabIds.length + 1,
    oov,
    toCompact: (ids: ReadonlyArray<number>) => ids.map((id) => index.get(id) ?? oov),
    toLlama: (ids: ReadonlyArray<number>) => ids.filter((i) => i < oov).map((i) => vocabIds[i]!),
  }
}
