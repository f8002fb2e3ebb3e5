/**
 * Trains a small interpolated Witten–Bell n-gram model and writes it as ARPA. It makes the model the
 * embedded sample ships (scripts/make-owm-lm.mjs); a real OpenWebMath run brings a KenLM model.
 * In ARPA form, each seen n-gram stores log10 P_WB(w | h) and each context stores log10 λ(h), since
 * an unseen continuation has P(w | h) = λ(h) · P(w | shorter h).
 */

export const buildArpa = (sentences: ReadonlyArray<ReadonlyArray<string>>, order = 3): string => {
  const counts: Array<Map<string, number>> = Array.from({ length: order + 1 }, () => new Map())
  for (const s of sentences) {
    const words = ["<s>", ...s, "</s>"]
    for (let k = 1; k <= order; k++) {
      for (let i = 1; i < words.length; i++) {
        if (i - k + 1 < 0) continue
        const gram = words.slice(Math.max(0, i - k + 1), i + 1)
        if (gram.length !== k) continue
        const key = gram.join(" ")
        counts[k]!.set(key, (counts[k]!.get(key) ?? 0) + 1)
      }
    }
  }
  // context statistics: c(h) = Σ_w c(h w), types(h) = |{w : c(h w) > 0}|
  const ctxTotal: Array<Map<string, number>> = Array.from({ length: order + 1 }, () => new Map())
  const ctxTypes: Array<Map<string, number>> = Array.from({ length: order + 1 }, () => new Map())
  for (let k = 2; k <= order; k++) {
    for (const [key, c] of counts[k]!) {
      const h = key.slice(0, key.lastIndexOf(" "))
      ctxTotal[k]!.set(h, (ctxTotal[k]!.get(h) ?? 0) + c)
      ctxTypes[k]!.set(h, (ctxTypes[k]!.get(h) ?? 0) + 1)
    }
  }
  const vocab = [...counts[1]!.keys()]
  const tokens = [...counts[1]!.values()].reduce((a, b) => a + b, 0)
  const types = vocab.length
  const uniform = 1 / (types + 1) // + <unk>
  const p1 = new Map<string, number>()
  for (const w of vocab) p1.set(w, (counts[1]!.get(w)! + types * uniform) / (tokens + types))
  p1.set("<unk>", (types * uniform) / (tokens + types))

  const probs: Array<Map<string, number>> = [new Map(), p1]
  const lambda = (k: number, h: string) => {
    const t = ctxTypes[k]!.get(h) ?? 0
    const c = ctxTotal[k]!.get(h) ?? 0
    return t === 0 ? 1 : t / (c + t)
  }
  const lower = (k: number, key: string): number => {
    const words = key.split(" ")
    const shorter = words.slice(1).join(" ")
    if (k - 1 === 1) return p1.get(shorter) ?? p1.get("<unk>")!
    return probs[k - 1]!.get(shorter) ?? lambda(k - 1, words.slice(1, -1).join(" ")) * lower(k - 1, shorter)
  }
  for (let k = 2; k <= order; k++) {
    const pk = new Map<string, number>()
    for (const [key, c] of counts[k]!) {
      const h = key.slice(0, key.lastIndexOf(" "))
      const total = ctxTotal[k]!.get(h)!
      const t = ctxTypes[k]!.get(h)!
      pk.set(key, (c + t * lower(k, key)) / (total + t))
    }
    probs.push(pk)
  }
  const log = (x: number) => Math.log10(x).toFixed(6)
  const lines = ["\\data\\"]
  const unigramKeys = ["<unk>", "<s>", ...vocab.filter((w) => w !== "<s>")]
  lines.push(`ngram 1=${unigramKeys.length}`)
  for (let k = 2; k <= order; k++) lines.push(`ngram ${k}=${probs[k]!.size}`)
  lines.push("", "\\1-grams:")
  for (const w of unigramKeys) {
    const p = w === "<s>" ? "-99.000000" : log(p1.get(w)!)
    const bow = order > 1 && ctxTypes[2]!.has(w) ? `\t${log(lambda(2, w))}` : ""
    lines.push(`${p}\t${w}${bow}`)
  }
  for (let k = 2; k <= order; k++) {
    lines.push("", `\\${k}-grams:`)
    for (const [key, p] of [...probs[k]!].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const bow = k < order && ctxTypes[k + 1]!.has(key) ? `\t${log(lambda(k + 1, key))}` : ""
      lines.push(`${log(p)}\t${key}${bow}`)
    }
  }
  lines.push("", "\\end\\", "")
  return lines.join("\n")
}
