/**
 * Math written between delimiters in page text, as MathJax or KaTeX would find it. The page's own
 * configuration (MathJax 2 `tex2jax`, MathJax 3 `tex`, KaTeX auto-render `delimiters`) adds to the
 * defaults; `$…$` counts only when the page configures it, since a bare `$` is usually money.
 */

export interface Delimiter {
  readonly left: string
  readonly right: string
  readonly display: boolean
}

export const DEFAULT_DELIMITERS: ReadonlyArray<Delimiter> = [
  { left: "$$", right: "$$", display: true },
  { left: "\\[", right: "\\]", display: true },
  { left: "\\(", right: "\\)", display: false },
]

const ENVIRONMENTS = ["equation", "equation*", "align", "align*", "gather", "gather*", "multline", "multline*", "eqnarray", "eqnarray*", "displaymath", "flalign", "flalign*", "alignat", "alignat*"]

const unescapeJs = (s: string): string => s.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))

const quoted = /(['"])((?:\\.|(?!\1)[^\\])*)\1/g

const pairsIn = (list: string): Array<[string, string]> => {
  const strings = [...list.matchAll(quoted)].map((m) => unescapeJs(m[2]!))
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < strings.length; i += 2) out.push([strings[i]!, strings[i + 1]!])
  return out
}

/** Delimiters a page configures in its scripts (MathJax 2/3, KaTeX auto-render). */
export const pageDelimiters = (scripts: ReadonlyArray<string>): Array<Delimiter> => {
  const found: Array<Delimiter> = []
  for (const src of scripts) {
    if (!/MathJax|renderMathInElement|katex|tex2jax/i.test(src)) continue
    for (const [key, display] of [
      ["inlineMath", false],
      ["displayMath", true],
    ] as const) {
      const re = new RegExp(`${key}\\s*:\\s*(\\[(?:[^\\[\\]]|\\[[^\\[\\]]*\\])*\\])`, "g")
      for (const m of src.matchAll(re)) for (const [left, right] of pairsIn(m[1]!)) found.push({ left, right, display })
    }
    const katex = /left\s*:\s*(['"])((?:\\.|(?!\1)[^\\])*)\1\s*,\s*right\s*:\s*(['"])((?:\\.|(?!\3)[^\\])*)\3\s*,\s*display\s*:\s*(true|false)/g
    for (const m of src.matchAll(katex)) found.push({ left: unescapeJs(m[2]!), right: unescapeJs(m[4]!), display: m[5] === "true" })
  }
  return found
}

export const delimitersFor = (configured: ReadonlyArray<Delimiter>): Array<Delimiter> => {
  const all = [...configured, ...DEFAULT_DELIMITERS]
  const seen = new Set<string>()
  return all
    .filter((d) => d.left.length > 0 && d.right.length > 0)
    .filter((d) => {
      const k = `${d.left}\u0000${d.right}`
      if (seen.has(k)) return false
      seen.add(k)
      return true
    })
    .sort((a, b) => b.left.length - a.left.length)
}

export type Segment = { readonly kind: "text"; readonly text: string } | { readonly kind: "math"; readonly latex: string; readonly display: boolean; readonly source: string }

const MAX_MATH = 5000

/** Splits text into plain text and delimited math (including bare \begin{equation}… environments). */
export const splitMath = (text: string, delimiters: ReadonlyArray<Delimiter>): Array<Segment> => {
  const out: Array<Segment> = []
  if (!text.includes("$") && !text.includes("\\")) return [{ kind: "text", text }]
  let last = 0
  let i = 0
  const pushText = (end: number) => {
    if (end > last) out.push({ kind: "text", text: text.slice(last, end) })
  }
  outer: while (i < text.length) {
    const ch = text[i]
    if (ch !== "$" && ch !== "\\") {
      i++
      continue
    }
    if (ch === "\\" && text[i + 1] === "$") {
      i += 2 // an escaped dollar is text
      continue
    }
    if (ch === "\\" && text.startsWith("\\begin{", i)) {
      const env = /^\\begin\{([a-zA-Z]+\*?)\}/.exec(text.slice(i, i + 40))?.[1]
      if (env && ENVIRONMENTS.includes(env)) {
        const endTag = `\\end{${env}}`
        const end = text.indexOf(endTag, i)
        if (end > i && end - i < MAX_MATH) {
          pushText(i)
          out.push({ kind: "math", latex: text.slice(i, end + endTag.length).trim(), display: true, source: "environment" })
          i = last = end + endTag.length
          continue
        }
      }
    }
    for (const d of delimiters) {
      if (!text.startsWith(d.left, i)) continue
      if (d.left === "$" && text[i + 1] === "$") continue
      const from = i + d.left.length
      let end = text.indexOf(d.right, from)
      while (end >= 0 && d.right === "$" && (text[end - 1] === "\\" || text[end + 1] === "$")) end = text.indexOf(d.right, end + 2)
      if (end < 0 || end - from > MAX_MATH) continue
      const latex = text.slice(from, end).trim()
      if (latex.length === 0 || (d.left === "$" && /\n\s*\n/.test(latex))) continue
      pushText(i)
      out.push({ kind: "math", latex, display: d.display, source: "delimiters" })
      i = last = end + d.right.length
      continue outer
    }
    i++
  }
  pushText(text.length)
  return out
}
