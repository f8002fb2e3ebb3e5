// Generates samples/owm/sample.warc.gz (the embedded OpenWebMath sample) and samples/owm/truncated.warc.gz.
// Pages are written by the mathdag team; math is rendered with the real katex and mathjax-full packages;
// a few records are hostile or broken on purpose. Output is deterministic: run it again, get the same bytes.
//   node scripts/make-owm-sample.mjs
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import katex from "katex"
import { mathjax } from "mathjax-full/js/mathjax.js"
import { TeX } from "mathjax-full/js/input/tex.js"
import { liteAdaptor } from "mathjax-full/js/adaptors/liteAdaptor.js"
import { RegisterHTMLHandler } from "mathjax-full/js/handlers/html.js"
import { AllPackages } from "mathjax-full/js/input/tex/AllPackages.js"
import { SerializedMmlVisitor } from "mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const out = path.join(root, "samples", "owm")
fs.mkdirSync(out, { recursive: true })

RegisterHTMLHandler(liteAdaptor())
const mjDoc = mathjax.document("", { InputJax: new TeX({ packages: AllPackages.filter((p) => p !== "bussproofs") }) })
const mml = new SerializedMmlVisitor()
const mathml = (tex, display = false) => mml.visitTree(mjDoc.convert(tex, { display }))
const kx = (tex, display = false) => katex.renderToString(tex, { output: "htmlAndMathml", displayMode: display, throwOnError: false })

const chrome = (body, { title, scripts = "" }) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>${scripts}</head>
<body>
<nav class="nav"><a href="/">Home</a> <a href="/archive">Archive</a> <a href="/about">About</a> <a href="/contact">Contact</a></nav>
<div id="sidebar"><h3>Recent posts</h3><ul><li><a href="/p/1">On primes</a></li><li><a href="/p/2">On groups</a></li><li><a href="/p/3">On limits</a></li></ul></div>
<article>
<h1>${title}</h1>
${body}
</article>
<div class="footer">Copyright © 2026 Example Notes. All rights reserved. Please sign up for our newsletter to get regular updates.</div>
</body></html>`

const pages = []
const page = (url, html, extra = {}) => pages.push({ url, body: Buffer.from(html, "utf8"), type: "text/html; charset=utf-8", status: 200, ...extra })

// 1. MathJax 2 configured for $…$, math written in the text.
page("https://notes.example.org/quadratic", chrome(`
<p>Every quadratic $ax^2+bx+c$ with $a \\neq 0$ has the roots given by the familiar formula, which we derive by completing the square.</p>
<p>Dividing by $a$ and moving the constant gives $x^2 + \\frac{b}{a}x = -\\frac{c}{a}$, and adding the square of half the linear coefficient to both sides yields</p>
<p>$$\\left(x + \\frac{b}{2a}\\right)^2 = \\frac{b^2 - 4ac}{4a^2}.$$</p>
<p>Taking square roots, $x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$. The discriminant $\\Delta = b^2 - 4ac$ decides whether the roots are real. A price of \\$5 and \\$10 is not math.</p>`, {
  title: "Completing the square",
  scripts: `<script type="text/x-mathjax-config">MathJax.Hub.Config({ tex2jax: { inlineMath: [['$','$'], ['\\\\(','\\\\)']], processEscapes: true } });</script><script src="https://cdn.example/MathJax.js"></script>`,
}))

// 2. KaTeX rendered on the server (real katex output: MathML annotation + HTML glyphs).
page("https://notes.example.org/euler", chrome(`
<p>Euler's identity ${kx("e^{i\\pi} + 1 = 0")} links five constants. More generally, for every real ${kx("\\theta")},</p>
${kx("e^{i\\theta} = \\cos\\theta + i\\sin\\theta,", true)}
<p>and summing the geometric series ${kx("\\sum_{k=0}^{n-1} e^{ik\\theta}")} gives closed forms for sums of sines and cosines that appear throughout Fourier analysis.</p>`, {
  title: "Euler's formula",
  scripts: `<link rel="stylesheet" href="https://cdn.example/katex.min.css">`,
}))

// 3. MathJax 3 output (real mathjax-full MathML inside mjx-container, no TeX annotation).
page("https://notes.example.org/basel", chrome(`
<p>The Basel problem asks for the value of <mjx-container class="MathJax" jax="CHTML">${mathml("\\sum_{n=1}^{\\infty} \\frac{1}{n^2}")}</mjx-container>, which Euler showed to be</p>
<mjx-container class="MathJax" jax="CHTML" display="true">${mathml("\\frac{\\pi^2}{6}", true)}</mjx-container>
<p>His argument compares the Taylor series of the sine function with its factorisation over its roots, an argument made rigorous by Weierstrass much later.</p>`, { title: "The Basel problem", scripts: `<script src="https://cdn.example/mathjax/tex-chtml.js"></script>` }))

// 4. WordPress latex.php images, 5. codecogs and mimetex images.
page("https://blog.example.com/2026/01/limits/", chrome(`
<p>Recall that <img class="latex" src="https://s0.wp.com/latex.php?latex=%5Clim_%7Bx%5Cto0%7D%5Cfrac%7B%5Csin+x%7D%7Bx%7D%3D1&bg=ffffff" alt="\\lim_{x\\to0}\\frac{\\sin x}{x}=1"> is the key limit behind the derivative of the sine function.</p>
<p>From it one obtains <img class="latex" src="https://s0.wp.com/latex.php?latex=%5Cfrac%7Bd%7D%7Bdx%7D%5Csin+x%3D%5Ccos+x" alt="\\frac{d}{dx}\\sin x=\\cos x"> by the addition formula and the squeeze theorem, which we prove in the next lecture.</p>`, { title: "Two limits" }))
page("https://forum.example.net/thread/42", chrome(`
<p>How do I show that <img src="https://latex.codecogs.com/gif.latex?%5Cint_0%5E1%20x%5En%20dx%20%3D%20%5Cfrac%7B1%7D%7Bn%2B1%7D"> for every natural number n? I tried induction without success.</p>
<p>Answer: integrate directly, or note that <img src="/cgi-bin/mimetex.cgi?\\frac{d}{dx}\\frac{x^{n+1}}{n+1}=x^n"> and apply the fundamental theorem of calculus to the antiderivative.</p>`, { title: "Integral of a power" }))

// 6. MathJax 2 preprocessed script tags, asciimath, .math-container, .tex[data-expr], \\begin{equation}.
page("https://notes.example.org/series", chrome(`
<p>The harmonic series <script type="math/tex">\\sum_{n\\ge1} \\frac1n</script> diverges, while the alternating version converges:</p>
<script type="math/tex; mode=display">\\sum_{n\\ge1} \\frac{(-1)^{n+1}}{n} = \\ln 2</script>
<p>In AsciiMath the same sum reads <script type="math/asciimath">sum_(n=1)^oo 1/n^2</script>, and on question sites it is written <span class="math-container">$\\zeta(2)=\\pi^2/6$</span>.</p>
<p>A data attribute holds <span class="tex" data-expr="\\prod_{p} \\frac{1}{1-p^{-s}}"></span> for the Euler product, and the definition is</p>
<p>\\begin{equation} \\zeta(s) = \\sum_{n=1}^{\\infty} n^{-s} \\end{equation}</p>`, { title: "Series and zeta", scripts: `<script src="https://cdn.example/MathJax.js?config=TeX-AMS_HTML"></script>` }))

// 7. Not math: prefilter drops these.
page("https://food.example.com/bread", chrome(`<p>Mix flour, water, salt and yeast. Knead for ten minutes, let the dough rise for an hour, shape it, and bake at a high temperature until the crust is deep brown.</p>`, { title: "Simple bread" }))
page("https://news.example.com/weather", chrome(`<p>Rain is expected through the weekend, with clearer skies on Monday and temperatures slightly above the seasonal average across the region.</p>`, { title: "Weekend weather" }))

// 8. Math, but filtered: French (accented share) and too short.
page("https://maths.example.fr/derivees", chrome(`<p>La dérivée de $f$ en $a$ est la limite, lorsqu'elle existe, du taux d'accroissement. Voilà pourquoi la fonction définie par $f(x)=|x|$ n'est pas dérivable en zéro : à gauche et à droite, les limites diffèrent. Déjà, très tôt, on étudie ces idées élémentaires.</p>`, { title: "Dérivées", scripts: `<script>MathJax = { tex: { inlineMath: [['$', '$']] } }</script>` }))
page("https://notes.example.org/tiny", `<html><head><script src="MathJax.js"></script></head><body><p>$x$</p></body></html>`)

// 9. Hostile: script payloads in text next to math (the report must show them as text).
page("https://evil.example.net/xss", chrome(`<p>This page tries &lt;script&gt;alert(1)&lt;/script&gt; and <b onmouseover="alert(2)">hover</b> tricks; its math $a^2+b^2=c^2$ is still worth keeping, as is the rest of this sentence about right triangles.</p><script>document.write("<img src=x onerror=alert(3)>")</script>`, {
  title: "Payloads", scripts: `<script>MathJax = { tex: { inlineMath: [['$', '$']] } }</script>`,
}))

// 10. Broken: binary served as text/html, undecodable bytes, 100k nested tags, a PDF, a 404.
pages.push({ url: "https://bin.example.com/image", body: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Buffer.alloc(600, 7)]), type: "text/html", status: 200 })
pages.push({ url: "https://deep.example.com/", body: Buffer.from(`<html><body><script src="MathJax.js"></script>${"<div>".repeat(100_000)}x${"</div>".repeat(100_000)}</body></html>`), type: "text/html", status: 200 })
pages.push({ url: "https://files.example.com/paper.pdf", body: Buffer.from("%PDF-1.4 not html"), type: "application/pdf", status: 200 })
pages.push({ url: "https://notes.example.org/missing", body: Buffer.from("<html><body>Not found</body></html>"), type: "text/html", status: 404 })

const uuid = (s) => {
  const h = createHash("sha256").update(s).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}
const DATE = "2026-01-15T12:00:00Z"
const record = (headers, block) => {
  const head = ["WARC/1.0", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${block.length}`, "", ""].join("\r\n")
  return gzipSync(Buffer.concat([Buffer.from(head), block, Buffer.from("\r\n\r\n")]), { level: 9 })
}
const reason = { 200: "OK", 404: "Not Found" }

const members = []
const info = Buffer.from("software: mathdag scripts/make-owm-sample.mjs\r\nformat: WARC File Format 1.0\r\n")
members.push(record({ "WARC-Type": "warcinfo", "WARC-Record-ID": `<urn:uuid:${uuid("warcinfo")}>`, "WARC-Date": DATE, "Content-Type": "application/warc-fields" }, info))
for (const p of pages) {
  const request = Buffer.from(`GET ${new URL(p.url).pathname} HTTP/1.1\r\nHost: ${new URL(p.url).host}\r\n\r\n`)
  members.push(record({ "WARC-Type": "request", "WARC-Record-ID": `<urn:uuid:${uuid("req " + p.url)}>`, "WARC-Date": DATE, "WARC-Target-URI": p.url, "Content-Type": "application/http; msgtype=request" }, request))
  const http = Buffer.concat([Buffer.from(`HTTP/1.1 ${p.status} ${reason[p.status] ?? "OK"}\r\nContent-Type: ${p.type}\r\nContent-Length: ${p.body.length}\r\n\r\n`), p.body])
  members.push(record({ "WARC-Type": "response", "WARC-Record-ID": `<urn:uuid:${uuid(p.url)}>`, "WARC-Date": DATE, "WARC-Target-URI": p.url, "Content-Type": "application/http; msgtype=response" }, http))
}
const warc = Buffer.concat(members)
fs.writeFileSync(path.join(out, "sample.warc.gz"), warc)
// A second file cut off in the middle of a gzip member: its first records are kept, the rest counted.
const cut = Buffer.concat(members.slice(0, 6))
fs.writeFileSync(path.join(out, "truncated.warc.gz"), Buffer.concat([cut, members[6].subarray(0, Math.floor(members[6].length / 2))]))
console.log(`samples/owm/sample.warc.gz: ${pages.length} pages, ${warc.length} bytes; samples/owm/truncated.warc.gz: ${cut.length} bytes + a cut member`)
