/**
 * HTML → text with math kept as LaTeX, after keirp/OpenWebMath's rules (OpenWebMath step 3, docs/proof-pile-2.md).
 * One DOM pass finds math (MathML annotation/alttext/MathML→LaTeX, KaTeX, MathJax scripts, image
 * alt text and src queries, `.math-container`, `.wp-katex-eq`, `.tex[data-expr]`, `.texerror`) and
 * the page's delimited math, drops rendered duplicates, banned selectors and link clusters, and builds
 * lines; boilerplate lines are then removed by phrase scores. Output math is `$…$` / `$$…$$`, and a
 * literal `$` in text is written `\$`.
 */
import { parseDocument } from "htmlparser2"
import type { AnyNode, Element } from "domhandler"
import { getOuterHTML, textContent } from "domutils"
import { MathMLToLaTeX } from "mathml-to-latex"
import * as asciimathModule from "asciimath-to-latex"
import { DEFAULT_BOILERPLATE, removeBoilerplate, type BoilerplateConfig, type Line, type Phrase } from "./boilerplate.js"
import { delimitersFor, pageDelimiters, splitMath, type Delimiter } from "./delimiters.js"
import type { SelectorSet } from "./selectors.js"

export interface ExtractOptions {
  readonly phrases: ReadonlyArray<Phrase>
  readonly banned: SelectorSet
  readonly boilerplate?: BoilerplateConfig
  /** pages with more links than this are skipped (link farms, sitemaps) */
  readonly maxLinks?: number
  readonly markdownHeadings?: boolean
  /** pages nested deeper than this are refused (the walk is recursive) */
  readonly maxDepth?: number
}

export type ExtractResult =
  { readonly ok: true; readonly text: string; readonly title: string; readonly mathFound: boolean; readonly mathSources: ReadonlyArray<string> } | { readonly ok: false; readonly reason: string }

const SKIP = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "head",
  "iframe",
  "object",
  "embed",
  "canvas",
  "svg",
  "input",
  "select",
  "textarea",
  "button",
  "form",
  "nav",
  "aside",
  "footer",
  "video",
  "audio",
  "map",
  "dialog",
])
const BLOCK = new Set([
  "p",
  "div",
  "section",
  "article",
  "main",
  "header",
  "blockquote",
  "ul",
  "ol",
  "dl",
  "dt",
  "dd",
  "figure",
  "figcaption",
  "table",
  "tbody",
  "thead",
  "tfoot",
  "address",
  "details",
  "summary",
  "center",
  "body",
  "html",
])
const HEADINGS: Record<string, number> = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 }

// The package is CommonJS with a `default` export; bundlers and Node disagree on the interop.
type AsciiMath = (s: string) => string
const asciimath: AsciiMath = ((m: { default?: unknown }) => (typeof m.default === "function" ? (m.default as AsciiMath) : (m.default as { default: AsciiMath }).default))(
  asciimathModule as { default?: unknown }
)

const classes = (el: Element): ReadonlyArray<string> => (el.attribs.class ? el.attribs.class.split(/\s+/) : [])
const hasClass = (el: Element, c: string) => classes(el).includes(c)
const isElement = (n: AnyNode): n is Element => n.type === "tag" || n.type === "script" || n.type === "style"

const LATEX_IMG_SRC = /(codecogs\.com|mimetex\.cgi|mathtex\.cgi)/i

const decodeQuery = (src: string): string | undefined => {
  const q = src.indexOf("?")
  if (q < 0) return undefined
  const raw = src.slice(q + 1)
  const latexParam = /(?:^|&)latex=([^&]*)/.exec(raw)?.[1]
  const value = latexParam ?? raw
  try {
    return decodeURIComponent(value.replace(/\+/g, latexParam !== undefined ? " " : "+"))
  } catch {
    return value
  }
}

interface MathHit {
  readonly latex: string
  readonly display: boolean
  readonly source: string
}

/** If this element is a math source, its LaTeX; `null` when it is rendered math to drop; else undefined. */
const mathOf = (el: Element): MathHit | null | undefined => {
  const name = el.name
  if (name === "math") {
    const display = el.attribs.display === "block"
    const annotation = findDescendant(el, (n) => n.name === "annotation" && /application\/x-tex/i.test(n.attribs.encoding ?? ""))
    if (annotation) return { latex: textContent(annotation).trim(), display, source: "mathml-annotation" }
    if (el.attribs.alttext) return { latex: el.attribs.alttext.trim(), display, source: "mathml-alttext" }
    try {
      const latex = MathMLToLaTeX.convert(getOuterHTML(el, { xmlMode: true, decodeEntities: false }))
      if (latex.trim()) return { latex: latex.trim(), display, source: "mathml" }
    } catch {
      /* fall through: unconvertible MathML is dropped, not printed as glyphs */
    }
    return null
  }
  if (name === "script") {
    const type = (el.attribs.type ?? "").toLowerCase()
    if (type.startsWith("math/tex")) return { latex: textContent(el).trim(), display: type.includes("mode=display"), source: "script-math-tex" }
    if (type.startsWith("math/asciimath")) return { latex: asciimath(textContent(el).trim()), display: type.includes("mode=display"), source: "asciimath" }
    return undefined
  }
  if (name === "img") {
    const src = el.attribs.src ?? ""
    const alt = el.attribs.alt?.trim()
    if (src.includes("latex.php") && (alt || decodeQuery(src))) return { latex: alt || decodeQuery(src)!, display: false, source: "latex-php" }
    if (LATEX_IMG_SRC.test(src)) {
      const q = decodeQuery(src)
      if (q) return { latex: q.trim(), display: false, source: "img-src" }
    }
    if (alt && classes(el).some((c) => /latex|tex|math/i.test(c))) return { latex: alt.replace(/^\$+|\$+$/g, "").trim(), display: false, source: "img-alt" }
    return undefined
  }
  if (name === "mjx-container") {
    // MathJax 3 output: the glyphs are noise; assistive or embedded MathML, when present, is the math.
    const inner = findDescendant(el, (n) => n.name === "math")
    const hit = inner ? mathOf(inner) : null
    return hit ? { ...hit, display: hit.display || el.attribs.display === "true" } : null
  }
  const cls = classes(el)
  if (cls.length === 0) return undefined
  if (cls.includes("katex-html") || cls.includes("MathJax_Preview") || cls.includes("MathJax") || cls.includes("MathJax_Display") || cls.includes("MathJax_SVG") || cls.includes("MathJax_CHTML"))
    return null
  if (cls.includes("texerror")) return { latex: textContent(el).trim(), display: false, source: "texerror" }
  if (cls.includes("tex") && el.attribs["data-expr"]) return { latex: el.attribs["data-expr"].trim(), display: false, source: "tex-data-expr" }
  if (cls.includes("wp-katex-eq")) return { latex: textContent(el).trim(), display: el.attribs["data-display"] === "true", source: "wp-katex-eq" }
  if (cls.includes("math-container")) {
    const raw = textContent(el).trim()
    const display = /^\$\$[\s\S]*\$\$$/.test(raw) || /^\\\[/.test(raw)
    return {
      latex: raw
        .replace(/^(\$\$|\$|\\\[|\\\()/, "")
        .replace(/(\$\$|\$|\\\]|\\\))$/, "")
        .trim(),
      display,
      source: "math-container",
    }
  }
  return undefined
}

const findDescendant = (el: Element, pred: (e: Element) => boolean): Element | undefined => {
  for (const c of el.children) {
    if (!isElement(c)) continue
    if (pred(c)) return c
    const d = findDescendant(c, pred)
    if (d) return d
  }
  return undefined
}

/** Text and link-text lengths of a subtree (for the link-cluster rule), computed once bottom-up. */
const measure = (
  node: AnyNode,
  inLink: boolean,
  stats: Map<Element, { text: number; link: number; links: number }>,
  page: { scripts: Array<string>; title: string }
): { text: number; link: number; links: number } => {
  if (node.type === "text") {
    const n = node.data.trim().length
    return { text: n, link: inLink ? n : 0, links: 0 }
  }
  if (!isElement(node)) return { text: 0, link: 0, links: 0 }
  if (node.name === "script" && !(node.attribs.type ?? "").startsWith("math/")) page.scripts.push(textContent(node))
  if (node.name === "title" && !page.title) page.title = textContent(node).trim()
  if (SKIP.has(node.name)) return { text: 0, link: 0, links: countLinks(node, page) }
  const isLink = node.name === "a"
  let text = 0
  let link = 0
  let links = isLink ? 1 : 0
  for (const c of node.children) {
    const m = measure(c, inLink || isLink, stats, page)
    text += m.text
    link += m.link
    links += m.links
  }
  const s = { text, link, links }
  stats.set(node, s)
  return s
}

const CLUSTER_TAGS = new Set(["ul", "ol", "div", "table", "section", "p", "td", "dl", "span", "header"])

/** Inside skipped elements (head): still find the title and scripts, and count links. */
const countLinks = (el: Element, page: { scripts: Array<string>; title: string }): number => {
  let n = 0
  for (const c of el.children) {
    if (!isElement(c)) continue
    if (c.name === "a") n++
    if (c.name === "script" && !(c.attribs.type ?? "").startsWith("math/")) page.scripts.push(textContent(c))
    if (c.name === "title" && !page.title) page.title = textContent(c).trim()
    n += countLinks(c, page)
  }
  return n
}

class LineBuilder {
  readonly lines: Array<Line & { kind: string }> = []
  private buf = ""
  private math = false
  private kind = "p"
  readonly sources = new Set<string>()

  text(s: string): void {
    if (!s) return
    if (this.buf === "" || this.buf.endsWith(" ")) s = s.replace(/^\s+/, "")
    else if (this.buf.endsWith("$") && /^[\p{L}\p{N}]/u.test(s)) s = ` ${s}`
    // A page's own `\$` already means a literal dollar; every literal dollar is written `\$` once.
    this.buf += s.includes("$") ? s.replace(/\\\$/g, "$").replace(/\$/g, "\\$") : s
  }
  mathInline(latex: string, source: string): void {
    this.sources.add(source)
    this.math = true
    // Math sits where the page put it; a space is added only to keep it off a preceding word.
    if (/[\p{L}\p{N}]$/u.test(this.buf)) this.buf += " "
    this.buf += `$${latex}$`
  }
  mathDisplay(latex: string, source: string): void {
    this.sources.add(source)
    this.end()
    this.lines.push({ text: `$$${latex}$$`, hasMath: true, hasCode: false, kind: "p" })
  }
  code(body: string): void {
    this.end()
    this.lines.push({ text: "```\n" + body.replace(/\n+$/, "") + "\n```", hasMath: false, hasCode: true, kind: "code" })
  }
  start(kind: string, prefix = ""): void {
    this.end()
    this.kind = kind
    this.buf = prefix
  }
  end(): void {
    const t = this.buf.replace(/[ \t\u00a0]+/g, " ").trim()
    if (t && t !== "-" && !/^#+$/.test(t)) this.lines.push({ text: t, hasMath: this.math, hasCode: false, kind: this.kind })
    this.buf = ""
    this.math = false
    this.kind = "p"
  }
}

export const extract = (html: string, options: ExtractOptions): ExtractResult => {
  const guard = markupGuard(html, options.maxDepth ?? 1500)
  if (guard) return { ok: false, reason: guard }
  const doc = parseDocument(html, { lowerCaseTags: true, lowerCaseAttributeNames: true, decodeEntities: true })
  if (domDepth(doc.children, options.maxDepth ?? 1500) > (options.maxDepth ?? 1500)) return { ok: false, reason: "too-deep" }
  // One pass gathers what the walk needs: scripts (for delimiter configs), the title, and the
  // text/link sizes of every subtree (for the link-cluster rule and the link-farm guard).
  const page = { scripts: [] as Array<string>, title: "" }
  const stats = new Map<Element, { text: number; link: number; links: number }>()
  let links = 0
  for (const c of doc.children) links += measure(c, false, stats, page).links
  if (links > (options.maxLinks ?? 3000)) return { ok: false, reason: "too-many-links" }
  const title = page.title
  const delimiters: ReadonlyArray<Delimiter> = delimitersFor(pageDelimiters(page.scripts))

  const out = new LineBuilder()
  const walk = (node: AnyNode, pre: boolean): void => {
    if (node.type === "text") {
      if (pre) {
        out.text(node.data)
        return
      }
      const collapsed = node.data.replace(/\s+/g, " ")
      for (const seg of splitMath(collapsed, delimiters)) {
        if (seg.kind === "text") out.text(seg.text)
        else if (seg.display) out.mathDisplay(seg.latex, seg.source)
        else out.mathInline(seg.latex, seg.source)
      }
      return
    }
    if (!isElement(node)) {
      if ("children" in node) for (const c of (node as { children: Array<AnyNode> }).children) walk(c, pre)
      return
    }
    const el = node
    const math = mathOf(el)
    if (math === null) return
    if (math) {
      if (!math.latex) return
      if (math.display || (el.parent && isElement(el.parent) && hasClass(el.parent, "katex-display"))) out.mathDisplay(math.latex, math.source)
      else out.mathInline(math.latex, math.source)
      return
    }
    if (SKIP.has(el.name) || el.name === "img" || options.banned.matches(el)) return
    const s = stats.get(el)
    if (s && CLUSTER_TAGS.has(el.name) && s.links >= 3 && s.text > 0 && s.link / s.text > 0.8) return
    if (el.name === "br") {
      const kind = out.lines.length ? "br" : "p"
      out.start(kind)
      return
    }
    if (el.name === "pre") {
      out.code(textContent(el))
      return
    }
    if (el.name === "code" && !pre) {
      out.text(`\`${textContent(el).replace(/\s+/g, " ")}\``)
      return
    }
    const h = HEADINGS[el.name]
    if (h) {
      out.start("h", options.markdownHeadings === false ? "" : `${"#".repeat(h)} `)
      for (const c of el.children) walk(c, pre)
      out.end()
      return
    }
    if (el.name === "li") {
      out.start("li", "- ")
      for (const c of el.children) walk(c, pre)
      out.end()
      return
    }
    if (el.name === "table" && tableShape(el).plain) {
      renderTable(el, out, walk)
      return
    }
    if (el.name === "tr" || el.name === "td" || el.name === "th" || BLOCK.has(el.name) || el.name === "hr") {
      out.end()
      for (const c of el.children) walk(c, pre)
      out.end()
      return
    }
    for (const c of el.children) walk(c, pre)
  }
  for (const c of doc.children) walk(c, false)
  out.end()

  const lines = out.lines.map((l) => (l.hasCode ? l : { ...l, text: l.text.replace(/\[(e|E)dit\]/g, "").trim() })).filter((l) => l.text.length > 0)
  const kept = trimEdges(removeBoilerplate(lines, options.phrases, options.boilerplate ?? DEFAULT_BOILERPLATE) as Array<Line & { kind: string }>)
  let text = ""
  for (let i = 0; i < kept.length; i++) {
    const l = kept[i]!
    const prev = kept[i - 1]
    text += i === 0 ? "" : prev && ((prev.kind === "li" && l.kind === "li") || (prev.kind === "tr" && l.kind === "tr") || l.kind === "br") ? "\n" : "\n\n"
    text += l.text
  }
  return { ok: true, text, title, mathFound: out.sources.size > 0, mathSources: [...out.sources].sort() }
}

const wordCount = (s: string) => s.split(/\s+/).filter(Boolean).length

/**
 * Page chrome that survives the phrase scores sits at the edges: greetings, "PDF version",
 * "users browsing this thread". Lines before the first substantial one (math, code, or at least
 * 15 words) are dropped, except the headings right before it; so are lines after the last one.
 */
export const trimEdges = <L extends Line & { kind: string }>(lines: ReadonlyArray<L>): Array<L> => {
  const substantial = (l: L) => l.hasMath || l.hasCode || (l.kind !== "h" && wordCount(l.text) >= 15)
  const first = lines.findIndex(substantial)
  if (first < 0) return [...lines]
  let start = first
  while (start > 0 && lines[start - 1]!.kind === "h") start--
  let last = lines.length - 1
  while (last > first && !substantial(lines[last]!)) last--
  return lines.slice(start, last + 1)
}

const rowsOf = (table: Element): Array<Element> => {
  const rows: Array<Element> = []
  const visit = (n: Element) => {
    for (const c of n.children) {
      if (!isElement(c)) continue
      if (c.name === "tr") rows.push(c)
      else if (c.name !== "table") visit(c)
    }
  }
  visit(table)
  return rows
}

/** OpenWebMath renders a table as plain text when it has at least 2 rows and 3 columns. */
const tableShape = (table: Element) => {
  const rows = rowsOf(table)
  const cols = Math.max(0, ...rows.map((r) => r.children.filter((c) => isElement(c) && (c.name === "td" || c.name === "th")).length))
  return { plain: rows.length >= 2 && cols >= 3 }
}

const renderTable = (table: Element, out: LineBuilder, walk: (n: AnyNode, pre: boolean) => void) => {
  for (const row of rowsOf(table)) {
    out.start("tr")
    let first = true
    for (const cell of row.children) {
      if (!isElement(cell) || (cell.name !== "td" && cell.name !== "th")) continue
      if (!first) out.text(" | ")
      first = false
      for (const c of cell.children) walk(c, false)
    }
    out.end()
  }
}

/** Depth of the parsed DOM, measured without recursion (stops past `limit`). */
export const domDepth = (roots: ReadonlyArray<AnyNode>, limit: number): number => {
  let max = 0
  const stack: Array<[AnyNode, number]> = roots.map((r) => [r, 1])
  while (stack.length > 0) {
    const [node, d] = stack.pop()!
    if (d > max) {
      max = d
      if (max > limit) return max
    }
    if ("children" in node) for (const c of (node as { children: Array<AnyNode> }).children) stack.push([c, d + 1])
  }
  return max
}

const NESTING = /<(\/?)(div|span|section|table|blockquote|ul|ol|article|font|center|dl)\b[^>]*>/gi
const MAX_TAGS = 150_000

/**
 * A linear scan before parsing: the HTML parser slows down quadratically on pathological nesting
 * (100k nested divs take ~12 s), so such pages are refused up front.
 */
export const markupGuard = (html: string, maxDepth: number): string | undefined => {
  let tags = 0
  for (let i = html.indexOf("<"); i >= 0; i = html.indexOf("<", i + 1)) if (++tags > MAX_TAGS) return "too-many-tags"
  // Below this many tags the parser stays fast whatever the nesting; the DOM depth check follows.
  if (tags < 20_000) return undefined
  let depth = 0
  for (let m = NESTING.exec(html); m; m = NESTING.exec(html)) {
    depth += m[1] ? -1 : 1
    if (depth > maxDepth) {
      NESTING.lastIndex = 0
      return "too-deep"
    }
  }
  NESTING.lastIndex = 0
  return undefined
}
