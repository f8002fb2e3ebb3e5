/**
 * AlgebraicStack's per-language rules (EleutherAI/math-lm `proof_pile_2/algebraic_stack/`, as summarised
 * in docs/proof-pile-2.md). `faithful` reproduces the released dataset, quirks included; `fixed` corrects the
 * quirks (see README: each difference is listed there). A rule returns why a file is dropped, or null.
 */

export type Variant = "faithful" | "fixed"

export interface StackFile {
  readonly text: string
  readonly lang: string
  readonly path: string
  readonly ext: string
}

export const TEXT_MAX_SIZE = 1_048_575
export const MAX_NUMERICAL_DENSITY = 0.5

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")

/** Digits over all non-whitespace characters (an empty file has density 0, not a ZeroDivisionError). */
export const numericalDensity = (text: string): number => {
  let chars = 0
  let digits = 0
  for (const ch of text) {
    if (/\s/.test(ch)) continue
    chars++
    if (ch >= "0" && ch <= "9") digits++
  }
  return digits / Math.max(1, chars)
}

export const standardFilter = (f: StackFile, maxDensity = MAX_NUMERICAL_DENSITY): string | null =>
  utf8Bytes(f.text) > TEXT_MAX_SIZE ? "too-large" : numericalDensity(f.text) > maxDensity ? "numerical-density" : null

const PYTHON_LIBS = ["numpy", "scipy", "sympy", "sage", "numba", "numexpr", "theano", "statsmodels", "networkx", "mpmath", "pymc3", "astropy", "cupy", "pycuda", "cvxpy", "pyomo", "jax"]

const python = (f: StackFile, v: Variant): string | null => {
  if (f.text.trim().startsWith("{")) return "json"
  const hit =
    v === "faithful"
      ? // upstream: plain substrings, so `import sage` also matches `import sagemaker`
        PYTHON_LIBS.some((x) => f.text.includes(`import ${x}`) || f.text.includes(`from ${x}`))
      : PYTHON_LIBS.some((x) => new RegExp(`^\\s*(import|from)\\s+${x}\\b`, "m").test(f.text))
  return hit ? null : "no-math-import"
}

/** Upstream's list misses a comma, so two entries are one concatenated string. */
export const C_INCLUDES_FAITHFUL = [
  "#include <fftw.h>",
  "#include <fftw3.h>" + "#include <rfftw.h>",
  "#include <gsl",
  "#include <cblas.h>",
  "#include <blas.h>",
  "#include <lapacke.h>",
  "#include <nlopt.h>",
  "#include <petsc.h>",
]
export const C_INCLUDES_FIXED = [
  "#include <fftw.h>",
  "#include <fftw3.h>",
  "#include <rfftw.h>",
  "#include <gsl",
  "#include <cblas.h>",
  "#include <blas.h>",
  "#include <lapacke.h>",
  "#include <nlopt.h>",
  "#include <petsc.h>",
]

const CPP_INCLUDES = ["adept_arrays.h", "adept.h", "<alglib", "<boost", "<armadillo", "<blitz", "<Eigen", "<deal.II", "<dlib", "<NTL", "<mtl"]

const HASKELL_MODULES = ["Numeric.LinearAlgebra", "Numeric.SpecFunctions", "Numeric.Vector", "Statistics", "Data.Complex"]
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const haskell = (f: StackFile, v: Variant): string | null => {
  // upstream builds the regex from the module names unescaped: "." matches any character
  const name = (m: string) => (v === "faithful" ? m : escapeRe(m))
  const hit = HASKELL_MODULES.some((m) => new RegExp(`import\\s+${name(m)}`).test(f.text) || new RegExp(`import\\s+qualified\\s+${name(m)}`).test(f.text))
  return hit ? null : "no-math-import"
}

const r = (f: StackFile): string | null => {
  if (f.text.includes("/* Resource fork")) return "resource-fork"
  if (/Requirement\s+\{\s+Identifier/.test(f.text)) return "requirement-file"
  if (f.text.startsWith("<?xml") || f.text.startsWith("{")) return "xml-or-json"
  return null
}

const julia = (f: StackFile): string | null => {
  const first = f.text[0]
  if (first === "%" || first === "{" || first === "[") return "not-code"
  if (utf8Bytes(f.text) >= 1e5) {
    const lines = f.text.split("\n").length
    const tests = f.text.split("@test").length - 1
    if (tests / lines < 0.1) return "large-not-tests"
    if (numericalDensity(f.text) > 0.5) return "numerical-density"
  }
  return null
}

const SECTIONING = ["\\chapter{", "\\chapter*{", "\\section{", "\\section*{", "\\subsection{", "\\subsection*{", "\\subsubsection{", "\\subsubsection*{", "\\paragraph{", "\\subparagraph{"]

const tex = (f: StackFile, isEnglish: (text: string) => boolean): string | null => {
  if (utf8Bytes(f.text) > 10_000_000) return "too-large"
  if (f.ext.toLowerCase() !== "tex") return "not-tex-extension"
  if (f.path.includes("latex/")) return "latex-dir"
  if (f.text.includes("gnuplot")) return "gnuplot"
  if (!SECTIONING.some((s) => f.text.includes(s))) return "no-sectioning"
  if (!isEnglish(f.text)) return "not-english"
  return null
}

/** A notebook (ipynb JSON) as Markdown: markdown cells as they are, code cells fenced, outputs and images dropped. */
export const notebookToMarkdown = (json: string): string | null => {
  let nb: { cells?: Array<{ cell_type?: string; source?: string | Array<string> }>; metadata?: { language_info?: { name?: string } } }
  try {
    nb = JSON.parse(json)
  } catch {
    return null
  }
  if (!nb || !Array.isArray(nb.cells)) return null
  const language = nb.metadata?.language_info?.name ?? "python"
  const parts: Array<string> = []
  for (const cell of nb.cells) {
    const src = (Array.isArray(cell.source) ? cell.source.join("") : (cell.source ?? "")).trim()
    if (!src) continue
    if (cell.cell_type === "markdown") parts.push(src.replace(/!\[[^\]]*\]\((?:data:|attachment:)[^)]*\)/g, "").trim())
    else if (cell.cell_type === "code") parts.push("```" + language + "\n" + src + "\n```")
  }
  return parts.filter(Boolean).join("\n\n")
}

const JUPYTER_MARKERS = ["\\begin{equation}", "\\begin{align}", "import sympy", "from sympy"]

export interface RuleContext {
  readonly variant: Variant
  readonly isEnglish: (text: string) => boolean
}

/** The rule for one file: null to keep it (with its possibly converted text), or the drop reason. */
export const stackRule = (f: StackFile, ctx: RuleContext): { readonly reason: string } | { readonly text: string } => {
  const std = () => standardFilter(f)
  const lang = f.lang.toLowerCase()
  const drop = (reason: string | null) => (reason ? { reason } : { text: f.text })
  switch (lang) {
    case "python":
      return drop(std() ?? python(f, ctx.variant))
    case "c":
      return drop(std() ?? ((ctx.variant === "faithful" ? C_INCLUDES_FAITHFUL : C_INCLUDES_FIXED).some((i) => f.text.includes(i)) ? null : "no-math-include"))
    case "c++":
    case "cpp":
      return drop(std() ?? (numericalDensity(f.text) > 0.1 ? "numerical-density-over-0.1" : CPP_INCLUDES.some((i) => f.text.includes(i)) ? null : "no-math-include"))
    case "haskell":
      return drop(std() ?? haskell(f, ctx.variant))
    case "r":
      return drop(std() ?? r(f))
    case "maple":
      return drop(f.text.length > 100_000 ? "too-large" : f.text.slice(0, 5) === "<?xml" ? "xml" : null)
    case "gap":
    case "lean":
    case "isabelle":
    case "idris":
    case "agda":
    case "fortran":
      return drop(std())
    case "julia":
      return drop(julia(f))
    case "tex":
      return drop(tex(f, ctx.isEnglish))
    case "jupyter":
    case "jupyter-notebook": {
      if (!JUPYTER_MARKERS.some((m) => f.text.toLowerCase().includes(m))) return { reason: "no-math" }
      const md = notebookToMarkdown(f.text)
      return md === null ? { reason: "invalid-notebook" } : md.trim() ? { text: md } : { reason: "empty-notebook" }
    }
    default:
      return { reason: "unsupported-language" }
  }
}
