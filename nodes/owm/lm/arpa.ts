/**
 * N-gram language models in the ARPA text format (what KenLM's `lmplz` writes and `build_binary`
 * reads): log10 probabilities with back-off weights. Scoring follows the back-off recursion:
 * log P(w | h) = log p(h w) if seen, else bow(h) + log P(w | h minus its first word).
 */

export interface ArpaModel {
  readonly order: number
  /** "w1 w2 … wn" → [log10 p, log10 backoff] */
  readonly grams: ReadonlyMap<string, readonly [number, number]>
  readonly unk: number
}

export class ArpaFormatError extends Error {}

export const parseArpa = (text: string): ArpaModel => {
  const grams = new Map<string, readonly [number, number]>()
  let order = 0
  let section = 0
  let sawData = false
  let lineNo = 0
  for (const raw of text.split("\n")) {
    lineNo++
    const line = raw.trim()
    if (!line) continue
    if (line === "\\data\\") {
      sawData = true
      continue
    }
    if (line === "\\end\\") break
    const header = /^\\(\d+)-grams:$/.exec(line)
    if (header) {
      section = Number(header[1])
      order = Math.max(order, section)
      continue
    }
    if (section === 0) {
      if (sawData && /^ngram \d+=\d+$/.test(line)) continue
      throw new ArpaFormatError(`line ${lineNo}: expected \\data\\ and "ngram N=count" lines, got "${line.slice(0, 40)}"`)
    }
    const parts = line.split(/\s+/)
    const prob = Number(parts[0])
    const words = parts.slice(1, 1 + section)
    if (!Number.isFinite(prob) || words.length !== section) throw new ArpaFormatError(`line ${lineNo}: malformed ${section}-gram "${line.slice(0, 60)}"`)
    const bow = parts.length > 1 + section ? Number(parts[1 + section]) : 0
    grams.set(words.join(" "), [prob, Number.isFinite(bow) ? bow : 0])
  }
  if (!sawData || order === 0) throw new ArpaFormatError("not an ARPA model: no \\data\\ section or no n-grams")
  const unk = grams.get("<unk>")?.[0] ?? -7
  return { order, grams, unk }
}

/** log10 P(word | history) by the back-off recursion (history: the last order − 1 tokens). */
export const logProb = (m: ArpaModel, history: ReadonlyArray<string>, word: string): number => {
  for (let start = 0; start <= history.length; start++) {
    const context = history.slice(start)
    const hit = m.grams.get([...context, word].join(" "))
    if (hit) {
      let bow = 0
      for (let s = 0; s < start; s++) bow += m.grams.get(history.slice(s).join(" "))?.[1] ?? 0
      return hit[0] + bow
    }
  }
  let bow = 0
  for (let s = 0; s < history.length; s++) bow += m.grams.get(history.slice(s).join(" "))?.[1] ?? 0
  return m.unk + bow
}

/** log10 probability of one sentence with <s> … </s>, and how many tokens were predicted. */
export const scoreSentence = (m: ArpaModel, tokens: ReadonlyArray<string>): { logProb: number; tokens: number } => {
  const words = [...tokens.map((t) => (m.grams.has(t) ? t : "<unk>")), "</s>"]
  let history: Array<string> = ["<s>"]
  let total = 0
  for (const w of words) {
    total += logProb(m, history, w)
    history = [...history, w].slice(-(m.order - 1))
  }
  return { logProb: total, tokens: words.length }
}

/** Perplexity of a document: 10^(−Σ log10 p / N) over all of its sentences. */
export const perplexity = (m: ArpaModel, sentences: ReadonlyArray<ReadonlyArray<string>>): number => {
  let lp = 0
  let n = 0
  for (const s of sentences) {
    const r = scoreSentence(m, s)
    lp += r.logProb
    n += r.tokens
  }
  return n === 0 ? Infinity : 10 ** (-lp / n)
}
