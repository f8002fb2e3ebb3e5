// Writes samples/arxiv/arxiv-sample.jsonl: short arXiv-style LaTeX papers written by the mathdag team,
// in RedPajama's arXiv layout ({"text", "meta": {"arxiv_id", "timestamp", "yymm", "language", "url"}}).
//   node scripts/make-arxiv-sample.mjs
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const papers = [
  ["2601.00001", "On sums of consecutive odd numbers", "\\begin{theorem} For every $n \\ge 1$, $\\sum_{k=1}^{n} (2k-1) = n^2$. \\end{theorem}\n\\begin{proof} By induction: the case $n=1$ is $1=1$, and adding $2n+1$ to $n^2$ gives $(n+1)^2$. \\end{proof}"],
  ["2601.00002", "A note on cyclic groups", "\\begin{lemma} Every subgroup of a cyclic group is cyclic. \\end{lemma}\n\\begin{proof} Let $H \\le \\langle g \\rangle$ and let $m$ be the least positive integer with $g^m \\in H$; division with remainder shows $H = \\langle g^m \\rangle$. \\end{proof}"],
  ["2601.00003", "The Basel sum revisited", "We recall that $\\zeta(2) = \\sum_{n \\ge 1} n^{-2} = \\pi^2/6$ and compare three classical proofs, via Fourier series, via the product formula for $\\sin$, and via a double integral."],
  ["2601.00004", "Convexity and Jensen's inequality", "\\begin{theorem} If $f$ is convex and $X$ integrable, then $f(\\mathbb{E}X) \\le \\mathbb{E} f(X)$. \\end{theorem} We give a proof by supporting lines."],
  ["2601.00005", "Counting spanning trees", "Kirchhoff's theorem states that the number of spanning trees of a graph equals any cofactor of its Laplacian matrix $L = D - A$. For $K_n$ this gives Cayley's formula $n^{n-2}$."],
  ["2601.00006", "Bounds for the prime counting function", "Chebyshev showed that $\\pi(x) \\asymp x / \\log x$. We present an elementary proof of $\\pi(2n) - \\pi(n) \\ge 1$ using the central binomial coefficient $\\binom{2n}{n}$."],
]
const lines = papers.map(([id, title, body]) =>
  JSON.stringify({
    text: `\\documentclass{article}\n\\title{${title}}\n\\begin{document}\n\\maketitle\n\\section{Introduction}\n${body}\n\\end{document}\n`,
    meta: { arxiv_id: id, timestamp: "2026-01-05T00:00:00", yymm: "2601", language: "en", url: `https://arxiv.org/abs/${id}` },
  })
)
fs.mkdirSync(path.join(root, "samples/arxiv"), { recursive: true })
fs.writeFileSync(path.join(root, "samples/arxiv/arxiv-sample.jsonl"), lines.join("\n") + "\n")
console.log(`samples/arxiv/arxiv-sample.jsonl: ${lines.length} papers`)
