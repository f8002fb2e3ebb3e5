/**
 * Math in sample rows, rendered when the report is written: KaTeX turns each `$…$`, `$$…$$`,
 * `\(…\)` and `\[…\]` span into MathML, which browsers draw with no script, font or network. Text
 * around the math is escaped as everywhere else; KaTeX escapes what it renders, and without
 * `trust` it renders no links or raw HTML from the data.
 */
import { createRequire } from "node:module"
import { html } from "./escape.js"

type Katex = typeof import("katex")
let katex: Katex | undefined
const loadKatex = (): Katex => (katex ??= createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)("katex") as Katex)

const MATH = /\$\$([^$]+?)\$\$|\$([^$\n]+?)\$|\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]/g

/** Whether a text holds a math span worth rendering. */
export const hasMath = (text: string): boolean => ONE_MATH.test(text)
// not global: a global regex's test() moves its lastIndex, which matchAll would then start from
const ONE_MATH = new RegExp(MATH.source)

/** The text as HTML with its math spans as MathML (a span KaTeX cannot parse stays as its source). */
export const mathToHtml = (text: string): string => {
  let out = ""
  let last = 0
  for (const m of text.matchAll(MATH)) {
    out += html(text.slice(last, m.index))
    const tex = m[1] ?? m[2] ?? m[3] ?? m[4] ?? ""
    const display = m[1] !== undefined || m[4] !== undefined
    try {
      out += loadKatex().renderToString(tex, { output: "mathml", displayMode: display, throwOnError: true, trust: false, strict: "ignore" })
    } catch {
      out += html(m[0])
    }
    last = m.index! + m[0].length
  }
  return out + html(text.slice(last))
}
