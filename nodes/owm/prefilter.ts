/**
 * owm/prefilter: keeps pages that can hold math (OpenWebMath step 2, docs/proof-pile-2.md): a math marker in the raw
 * HTML (MathJax, KaTeX, MathML, latex images, …); failing that, a `\command`-like token followed by a
 * common LaTeX command in the page text, or a MathScore above 0.8 on more than 500 characters of it
 * (the bundled MathScore model, as in the reference).
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { WebPage } from "../../schemas/web-page.js"
import { bundledModel } from "./mathscore.js"
import { predict } from "./mathscore/model.js"

export const MATH_MARKERS = ["MathJax", "mathjax", "<math", "math-container", "katex.min.css", "latex.php", "codecogs", "tex.cgi", 'class="tex"', "class='tex'"]

export const LATEX_COMMANDS = [
  "\\frac",
  "\\alpha",
  "\\beta",
  "\\gamma",
  "\\delta",
  "\\epsilon",
  "\\theta",
  "\\lambda",
  "\\sigma",
  "\\omega",
  "\\pi",
  "\\sum",
  "\\int",
  "\\sqrt",
  "\\begin",
  "\\end",
  "\\left",
  "\\right",
  "\\cdot",
  "\\mathbb",
  "\\mathrm",
  "\\infty",
  "\\partial",
  "\\leq",
  "\\geq",
  "\\neq",
  "\\times",
  "\\prod",
  "\\lim",
  "\\log",
  "\\mathbf",
  "\\over",
]

const BACKSLASH_WORD = /\\[a-z]{2,}/

/** Text of a page without tags (cheap; only pages without markers get this far). */
const roughText = (html: string) => html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, " ")

export const hasMathMarker = (html: string): boolean => MATH_MARKERS.some((m) => html.includes(m))

export const prefilter = Node.map({
  name: "owm/prefilter",
  // cheap per row, but on the main thread it would be the serial ceiling of a large run
  worker: true,
  version: 1,
  description: "Keep pages with a math marker, or with LaTeX commands in their text.",
  input: WebPage,
  output: WebPage,
  params: Schema.Struct({ latexCommands: Schema.optionalWith(Schema.Array(Schema.String), { default: () => LATEX_COMMANDS }) }),
  report: [Cell.table("Pages kept, by host", "SELECT regexp_extract(url, '^https?://([^/]+)', 1) AS host, count(*)::BIGINT AS pages FROM self GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")],
  externals: () => ["nodes/owm/data/mathscore-model.json"],
  setup: async () => bundledModel(),
  row: (page, p, model) => {
    if (hasMathMarker(page.html)) return Node.Keep(page)
    if (!BACKSLASH_WORD.test(page.html)) return Node.Drop("no-math-marker")
    const text = roughText(page.html)
    if (p.latexCommands.some((c) => text.includes(c))) return Node.Keep(page)
    const prose = text.replace(/\s+/g, " ").trim()
    return prose.length > 500 && predict(model, prose) > 0.8 ? Node.Keep(page) : Node.Drop("no-math-marker")
  },
})
