/**
 * MathScore: P(math | text) from a logistic regression over hashed features — lowercase word
 * unigrams and bigrams, LaTeX commands, and math symbols — trained by scripts/train-mathscore.mjs.
 * A small, inspectable model whose weights ship in nodes/owm/data/mathscore-model.json.
 */

export const BUCKETS = 1 << 18

export interface MathScoreModel {
  readonly format: "mathdag-mathscore-v1"
  readonly buckets: number
  readonly bias: number
  /** sparse weights: bucket → weight */
  readonly weights: Readonly<Record<string, number>>
  /** how the weights were made, for the README and the report */
  readonly training?: Readonly<Record<string, unknown>>
}

const fnv = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const TOKEN = /\\[a-zA-Z]+|[\p{L}]+|\d+|[=+\-*/^_<>≤≥≠∑∫√πθ{}()[\]|]/gu

/** Feature buckets of a text (with repetitions: counts matter, then get normalised). */
export const features = (text: string, buckets = BUCKETS): Map<number, number> => {
  const out = new Map<number, number>()
  const add = (f: string) => {
    const b = fnv(f) % buckets
    out.set(b, (out.get(b) ?? 0) + 1)
  }
  const tokens = (text.toLowerCase().match(TOKEN) ?? []).map((t) => (/^\d+$/.test(t) ? "0" : t))
  let prev = "<s>"
  for (const t of tokens) {
    add(`u:${t}`)
    add(`b:${prev} ${t}`)
    if (t.startsWith("\\")) add("c:latex-command")
    prev = t
  }
  const dollars = (text.match(/(?<!\\)\$/g)?.length ?? 0) / 2
  for (let i = 0; i < Math.min(dollars, 8); i++) add("c:inline-math")
  // normalise to unit L2 norm so long documents do not score higher just for being long
  let norm = 0
  for (const v of out.values()) norm += v * v
  norm = Math.sqrt(norm) || 1
  for (const [k, v] of out) out.set(k, v / norm)
  return out
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

export const predict = (model: MathScoreModel, text: string): number => {
  let z = model.bias
  for (const [b, v] of features(text, model.buckets)) z += (model.weights[b] ?? 0) * v
  return sigmoid(z)
}

export interface Example {
  readonly text: string
  readonly label: 0 | 1
}

/**
 * Plain SGD on the logistic loss with L2 regularisation, each class weighted by its inverse
 * frequency (so an unbalanced set does not teach a base rate); deterministic for a given order.
 */
export const train = (examples: ReadonlyArray<Example>, options: { epochs?: number; rate?: number; l2?: number } = {}): MathScoreModel => {
  const w = new Float64Array(BUCKETS)
  let bias = 0
  const epochs = options.epochs ?? 30
  const l2 = options.l2 ?? 1e-4
  const feats = examples.map((e) => [...features(e.text)])
  const positives = examples.filter((e) => e.label === 1).length
  const classWeight = [examples.length / (2 * Math.max(1, examples.length - positives)), examples.length / (2 * Math.max(1, positives))]
  for (let epoch = 0; epoch < epochs; epoch++) {
    const rate = (options.rate ?? 0.5) / (1 + epoch * 0.1)
    for (let i = 0; i < examples.length; i++) {
      let z = bias
      for (const [b, v] of feats[i]!) z += w[b]! * v
      const g = (sigmoid(z) - examples[i]!.label) * classWeight[examples[i]!.label]!
      bias -= rate * g
      for (const [b, v] of feats[i]!) w[b] = w[b]! - rate * (g * v + l2 * w[b]!)
    }
  }
  const weights: Record<string, number> = {}
  for (let b = 0; b < BUCKETS; b++) if (Math.abs(w[b]!) > 1e-4) weights[b] = Number(w[b]!.toFixed(5))
  return { format: "mathdag-mathscore-v1", buckets: BUCKETS, bias: Number(bias.toFixed(5)), weights }
}
