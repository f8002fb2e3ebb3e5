/** owm/* rules one by one, on small pages written here. */
import { describe, expect, it } from "vitest"
import { boilerplateScore, parsePhrases, removeBoilerplate } from "../../nodes/owm/extract/boilerplate.js"
import { owmConfig } from "../../nodes/owm/extract/config.js"
import { pageDelimiters, delimitersFor, splitMath } from "../../nodes/owm/extract/delimiters.js"
import { extract, markupGuard } from "../../nodes/owm/extract/extract.js"
import { compileSelectors } from "../../nodes/owm/extract/selectors.js"
import { decodeHtml } from "../../nodes/owm/decode.js"
import { accentedShare, hasNewcommandDump } from "../../nodes/owm/filter.js"
import { hasMathMarker, prefilter } from "../../nodes/owm/prefilter.js"

const page = (body: string, head = "") => `<html><head>${head}</head><body><article>${body}</article></body></html>`
const text = (html: string) => {
  const r = extract(html, owmConfig())
  if (!r.ok) throw new Error(r.reason)
  return r
}
const LONG = "This sentence is here so that the paragraph has enough words to count as real content on the page."

describe("math sources", () => {
  it("MathML: annotation, then alttext, then MathML→LaTeX; display from the element", () => {
    expect(text(page(`<p>${LONG} <math><semantics><mi>x</mi><annotation encoding="application/x-tex">x^2</annotation></semantics></math></p>`)).text).toContain("$x^2$")
    expect(text(page(`<p>${LONG} <math alttext="\\alpha" display="block"><mi>α</mi></math></p>`)).text).toContain("$$\\alpha$$")
    const r = text(page(`<p>${LONG} <math><mfrac><mi>a</mi><mi>b</mi></mfrac></math></p>`))
    expect(r.text).toContain("$\\frac{a}{b}$")
    expect(r.mathSources).toEqual(["mathml"])
  })
  it("KaTeX keeps the annotation and drops the glyph HTML", () => {
    const html = page(
      `<p>${LONG} <span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>y</mi></mrow><annotation encoding="application/x-tex">y_1</annotation></semantics></math></span><span class="katex-html" aria-hidden="true"><span class="mord">y1GLYPH</span></span></span></p>`
    )
    const r = text(html)
    expect(r.text).toContain("$y_1$")
    expect(r.text).not.toContain("GLYPH")
  })
  it("MathJax scripts (tex, display, asciimath) and previews", () => {
    const r = text(
      page(
        `<p>${LONG} <span class="MathJax_Preview">PREVIEW</span><script type="math/tex">a+b</script> and <script type="math/tex; mode=display">c=d</script> and <script type="math/asciimath">x^2</script></p>`
      )
    )
    expect(r.text).toContain("$a+b$")
    expect(r.text).toContain("$$c=d$$")
    expect(r.text).toContain("{x}^{{2}}")
    expect(r.text).not.toContain("PREVIEW")
  })
  it("images: latex class alt, latex.php alt, codecogs and mimetex src queries", () => {
    const r = text(
      page(
        `<p>${LONG} <img class="latex" alt="\\beta"> <img src="https://s0.wp.com/latex.php?latex=%5Cgamma" alt="\\gamma"> <img src="https://latex.codecogs.com/png.latex?%5Cdelta%5E2"> <img src="/cgi-bin/mimetex.cgi?\\epsilon_0"> <img src="cat.png" alt="a cat"></p>`
      )
    )
    for (const m of ["$\\beta$", "$\\gamma$", "$\\delta^2$", "$\\epsilon_0$"]) expect(r.text).toContain(m)
    expect(r.text).not.toContain("a cat")
  })
  it(".math-container, .wp-katex-eq, .tex[data-expr], .texerror", () => {
    const r = text(
      page(
        `<p>${LONG} <span class="math-container">$\\zeta(3)$</span> <span class="wp-katex-eq" data-display="false">\\eta</span> <span class="tex" data-expr="\\iota"></span> <span class="texerror">\\kappa</span></p>`
      )
    )
    for (const m of ["$\\zeta(3)$", "$\\eta$", "$\\iota$", "$\\kappa$"]) expect(r.text).toContain(m)
  })
  it("delimited math uses the page's configuration; $ only when configured; literal dollars are escaped", () => {
    const plain = text(page(`<p>${LONG} It costs $5 and $10, and \\(x+1\\) is math.</p>`))
    expect(plain.text).toContain("costs \\$5 and \\$10")
    expect(plain.text).toContain("$x+1$")
    const configured = text(page(`<p>${LONG} Let $x$ be real.</p>`, `<script>MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$'], ['\\\\(','\\\\)']]}})</script>`))
    expect(configured.text).toContain("Let $x$ be real")
    const env = text(page(`<p>${LONG} \\begin{align} a &= b \\end{align}</p>`))
    expect(env.text).toContain("$$\\begin{align} a &= b \\end{align}$$")
  })
  it("parses MathJax 2/3 and KaTeX delimiter configurations", () => {
    expect(pageDelimiters([`MathJax = { tex: { inlineMath: [['$', '$']], displayMath: [['$$','$$']] } }`])).toContainEqual({ left: "$", right: "$", display: false })
    expect(pageDelimiters([`renderMathInElement(document.body, { delimiters: [ {left: "@@", right: "@@", display: true} ] })`])).toEqual([{ left: "@@", right: "@@", display: true }])
    const ds = delimitersFor([{ left: "$", right: "$", display: false }])
    expect(
      splitMath("a $x$ and $$y$$ and \\$z", ds)
        .filter((s) => s.kind === "math")
        .map((s) => (s as { latex: string }).latex)
    ).toEqual(["x", "y"])
  })
})

describe("boilerplate and structure", () => {
  it("scores lines with the phrase list and drops boilerplate, keeping math lines", () => {
    const phrases = parsePhrases("all rights reserved\nsign up\n©")
    expect(boilerplateScore("© 2026. All rights reserved.", phrases).score).toBe(4)
    const lines = [
      { text: "A real paragraph with many words in it about groups and rings and fields.", hasMath: false, hasCode: false },
      { text: "Sign up now", hasMath: false, hasCode: false },
      { text: "sign up $x$", hasMath: true, hasCode: false },
    ]
    expect(removeBoilerplate(lines, phrases, { ratioThreshold: 0.18, absoluteThreshold: 10, endThreshold: 0 }).map((l) => l.text)).toEqual([lines[0]!.text, lines[2]!.text])
  })
  it("removes banned selectors, nav and link clusters; keeps code fenced and tables as plain rows", () => {
    const r = text(
      page(`<div class="nav">NAVIGATION</div><div id="sidebar">SIDEBAR</div><ul><li><a href="/a">Alpha link</a></li><li><a href="/b">Beta link</a></li><li><a href="/c">Gamma link</a></li></ul>
<p>${LONG}</p><pre>def f(x):\n    return x * 2</pre><table><tr><th>n</th><th>n^2</th><th>n^3</th></tr><tr><td>2</td><td>4</td><td>8</td></tr></table><p>${LONG}</p>`)
    )
    expect(r.text).not.toMatch(/NAVIGATION|SIDEBAR|Alpha link/)
    expect(r.text).toContain("```\ndef f(x):\n    return x * 2\n```")
    expect(r.text).toContain("n | n^2 | n^3\n2 | 4 | 8")
  })
  it("compiles the banned selector list and refuses selectors it cannot match fast", () => {
    expect(compileSelectors([".a", "#b", "nav", '[class*="promo"]']).matches({ name: "div", attribs: { class: "x promo-box" } } as never)).toBe(true)
    expect(() => compileSelectors(["div > p"])).toThrow(/unsupported banned selector/)
  })
  it("guards against pages that would take the parser down", () => {
    expect(markupGuard("<div>".repeat(25_000), 1500)).toBe("too-deep")
    expect(extract(page("<div>".repeat(3000) + LONG), owmConfig())).toEqual({ ok: false, reason: "too-deep" })
    expect(markupGuard("<i>".repeat(200_000), 1500)).toBe("too-many-tags")
    expect(markupGuard(page(LONG), 1500)).toBeUndefined()
    const links = page(Array.from({ length: 3001 }, (_, i) => `<a href="/${i}">${i}</a>`).join(" ") + `<p>${LONG}</p>`)
    expect(extract(links, owmConfig())).toEqual({ ok: false, reason: "too-many-links" })
  })
})

describe("decoding, prefilter, filter", () => {
  it("decodes by declared charset, UTF-8, or detection; refuses binary and empty bodies", () => {
    expect(decodeHtml(Buffer.from("<p>é</p>", "utf8"), "text/html")).toMatchObject({ ok: true, text: "<p>é</p>", charset: "utf-8" })
    expect(decodeHtml(Buffer.from([0x3c, 0x70, 0x3e, 0xe9, 0x3c]), "text/html; charset=iso-8859-1")).toMatchObject({ ok: true, text: "<p>é<" })
    expect(decodeHtml(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), "text/html")).toEqual({ ok: false, reason: "binary-body" })
    expect(decodeHtml(Buffer.alloc(0), "text/html")).toEqual({ ok: false, reason: "empty-body" })
    const latin = Buffer.from("<html><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9e, d\xe9j\xe0 vu, na\xefve fa\xe7ade \xe0 la carte.</p></body></html>", "latin1")
    const d = decodeHtml(latin, "text/html")
    expect(d.ok && d.text).toContain("Café crème")
  })
  it("prefilter keeps math markers and LaTeX commands, drops the rest", async () => {
    expect(hasMathMarker('<link href="katex.min.css">')).toBe(true)
    const base = { id: "1", url: "u", warc_record_id: "1", warc_file: "f", charset: "utf-8" }
    const p = { latexCommands: ["\\frac"] }
    const model = await prefilter.setup!(p)
    expect(prefilter.row({ ...base, html: "<p>\\frac{1}{2}</p>" }, p, model)._tag).toBe("Keep")
    expect(prefilter.row({ ...base, html: "<p>\\textbf{not math}</p>" }, p, model)).toEqual({ _tag: "Drop", reason: "no-math-marker" })
    expect(prefilter.row({ ...base, html: "<p>plain</p>" }, p, model)).toEqual({ _tag: "Drop", reason: "no-math-marker" })
  })
  it("filter rules: accented share and newcommand dumps", () => {
    expect(accentedShare("déjà vu")).toBeCloseTo(2 / 7)
    expect(hasNewcommandDump("\\newcommand{\\a}{1}\\newcommand{\\b}{2}")).toBe(true)
    expect(hasNewcommandDump("\\newcommand{\\a}{1}\n\\newcommand{\\b}{2}")).toBe(false)
  })
})
