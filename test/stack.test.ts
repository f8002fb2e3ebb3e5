/** AlgebraicStack: per-language rules at their thresholds, upstream quirks vs fixes, GitHub rules, dedup, sources. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { chunkHashes } from "../nodes/stack/dedup.js"
import { githubRule, removeTheorems } from "../nodes/stack/github-filter.js"
import { notebookToMarkdown, numericalDensity, stackRule, standardFilter, TEXT_MAX_SIZE, type Variant } from "../nodes/stack/rules.js"
import { ROOT, dag, nodeOf, sandbox, summary } from "./helpers.js"

const rule = (lang: string, text: string, variant: Variant = "faithful", extra: Partial<{ path: string; ext: string }> = {}) =>
  stackRule({ text, lang, path: extra.path ?? `x.${extra.ext ?? "txt"}`, ext: extra.ext ?? "txt" }, { variant, isEnglish: () => true })
const reason = (r: ReturnType<typeof rule>) => ("reason" in r ? r.reason : null)

describe("standard filter boundaries", () => {
  it("size: 1,048,575 bytes is kept, 1,048,576 dropped", () => {
    expect(standardFilter({ text: "a".repeat(TEXT_MAX_SIZE), lang: "gap", path: "", ext: "" })).toBeNull()
    expect(standardFilter({ text: "a".repeat(TEXT_MAX_SIZE + 1), lang: "gap", path: "", ext: "" })).toBe("too-large")
  })
  it("numerical density is digits over non-whitespace; exactly 0.5 is kept; an empty file is 0, not an error", () => {
    expect(numericalDensity("a1 b2\n")).toBe(0.5)
    expect(standardFilter({ text: "a1 b2", lang: "gap", path: "", ext: "" })).toBeNull()
    expect(standardFilter({ text: "a1 22", lang: "gap", path: "", ext: "" })).toBe("numerical-density")
    expect(numericalDensity("")).toBe(0)
  })
  it("C++ density exactly 0.1 is kept, above is dropped", () => {
    const text = "#include<Eigen>" + "123" + "x".repeat(12) // 3 digits of 30 characters
    expect(numericalDensity(text)).toBe(0.1)
    expect(reason(rule("C++", text))).toBeNull()
    expect(reason(rule("C++", text + "1"))).toBe("numerical-density-over-0.1")
  })
  it("Julia: under 1e5 bytes any file; at 1e5 only test-heavy files", () => {
    const small = "x = 1\n".padEnd(99_999, "a")
    expect(reason(rule("Julia", small))).toBeNull()
    expect(reason(rule("Julia", "x".repeat(100_000)))).toBe("large-not-tests")
    const tests = Array.from({ length: 20_000 }, (_, i) => (i % 5 === 0 ? "@test f(1) == 2" : "y = f(x)")).join("\n")
    expect(Buffer.byteLength(tests)).toBeGreaterThanOrEqual(100_000)
    expect(reason(rule("Julia", tests))).toBeNull()
    expect(reason(rule("Julia", "[1, 2]"))).toBe("not-code")
  })
})

describe("upstream quirks, reproduced by default and fixed on request", () => {
  it("python imports are plain substrings: `import sage` matches `import sagemaker`", () => {
    expect(reason(rule("Python", "import sagemaker\n"))).toBeNull()
    expect(reason(rule("Python", "import sagemaker\n", "fixed"))).toBe("no-math-import")
    expect(reason(rule("Python", "import sage.all\n", "fixed"))).toBeNull()
    expect(reason(rule("Python", '{"a": 1}\nimport numpy'))).toBe("json")
  })
  it("C: the missing comma joins fftw3.h and rfftw.h into one string", () => {
    expect(reason(rule("C", "#include <fftw3.h>\nint main(){}"))).toBe("no-math-include")
    expect(reason(rule("C", "#include <fftw3.h>\nint main(){}", "fixed"))).toBeNull()
    expect(reason(rule("C", "#include <fftw3.h>#include <rfftw.h>\n"))).toBeNull()
    expect(reason(rule("C", "#include <gsl/gsl_math.h>\n"))).toBeNull()
  })
  it("Haskell: module names are unescaped regexes upstream", () => {
    expect(reason(rule("Haskell", "import NumericXLinearAlgebra"))).toBeNull()
    expect(reason(rule("Haskell", "import NumericXLinearAlgebra", "fixed"))).toBe("no-math-import")
    expect(reason(rule("Haskell", "import qualified Numeric.LinearAlgebra as L", "fixed"))).toBeNull()
  })
})

describe("other languages", () => {
  it("R, Maple, TeX and Jupyter rules", () => {
    expect(reason(rule("R", "/* Resource fork */"))).toBe("resource-fork")
    expect(reason(rule("R", "Requirement  {\n Identifier"))).toBe("requirement-file")
    expect(reason(rule("Maple", "<?xml version"))).toBe("xml")
    expect(reason(rule("Maple", "x".repeat(100_001)))).toBe("too-large")
    expect(reason(rule("TeX", "\\section{A} text", "faithful", { ext: "tex", path: "a/latex/b.tex" }))).toBe("latex-dir")
    expect(reason(rule("TeX", "\\section*{A} text", "faithful", { ext: "tex", path: "a/b.tex" }))).toBeNull()
    expect(reason(rule("TeX", "\\section{A} text", "faithful", { ext: "sty", path: "a/b.sty" }))).toBe("not-tex-extension")
    expect(reason(rule("COBOL", "x"))).toBe("unsupported-language")
  })
  it("notebooks become Markdown with outputs and images stripped", () => {
    const nb = JSON.stringify({
      cells: [
        { cell_type: "markdown", source: "Intro ![p](data:image/png;base64,AA)" },
        { cell_type: "code", source: ["import sympy\n", "sympy.pi"], outputs: [{ text: "OUT" }] },
      ],
    })
    expect(notebookToMarkdown(nb)).toBe("Intro\n\n```python\nimport sympy\nsympy.pi\n```")
    const r = rule("Jupyter", nb)
    expect("text" in r && r.text).toContain("```python")
    expect(reason(rule("Jupyter", "import sympy not json"))).toBe("invalid-notebook")
  })
})

describe("GitHub formal files", () => {
  it("Coq, Lean, Isabelle and MATLAB rules", () => {
    expect(githubRule({ text: "Lemma x : True. Proof. trivial. Qed.", lang: "coq", repo: "a/b", path: "X.v" })).toBeNull()
    expect(githubRule({ text: "Definition x := 1. wire y;", lang: "coq", repo: "a/b", path: "X.v" })).toBe("verilog")
    expect(githubRule({ text: "theorem t : True := trivial", lang: "lean", repo: "x/ProofNet", path: "T.lean" })).toBe("banned-repo")
    expect(githubRule({ text: "lemma l : True := trivial", lang: "lean", repo: "x/y", path: "T.lean" })).toBeNull()
    expect(githubRule({ text: 'lemma "x"', lang: "isabelle", repo: "x/mirror-afp-2022", path: "T.thy" })).toBe("banned-repo")
    expect(githubRule({ text: 'lemma "x"', lang: "isabelle", repo: "x/mirror-afp-devel", path: "T.thy" })).toBeNull()
    expect(githubRule({ text: "int main() {\n}", lang: "matlab", repo: "x/y", path: "m.m" })).toBe("c-main")
  })
  it("named theorems are removed up to the next blank line", () => {
    expect(removeTheorems("lemma keep: A\n\nlemma drop_me: B\nproof\n\nlemma other: C", ["lemma drop_me:"])).toEqual({ text: "lemma keep: A\n\n\n\nlemma other: C", removed: 1 })
  })
  it("chunk dedup hashes full 2,048-character chunks, or the whole document when shorter", () => {
    expect(chunkHashes("a".repeat(5000), 2048)).toHaveLength(2)
    expect(chunkHashes("short", 2048)).toHaveLength(1)
  })
  const FORMAL = path.resolve(ROOT, "..", "shared", "data", "formal")
  it.skipIf(!fs.existsSync(FORMAL))("on real formal-math files (../shared/data/formal)", () => {
    const read = (f: string) => fs.readFileSync(path.join(FORMAL, f), "utf8")
    expect(githubRule({ text: read("mathcomp_fraction.v"), lang: "coq", repo: "math-comp/math-comp", path: "algebra/fraction.v" })).toBeNull()
    expect(githubRule({ text: read("minif2f_test.lean"), lang: "lean", repo: "openai/miniF2F", path: "lean/src/test.lean" })).toBe("banned-repo")
    expect(githubRule({ text: read("minif2f_test.lean"), lang: "lean", repo: "someone/lean-exercises", path: "test.lean" })).toBeNull()
    expect(githubRule({ text: read("minif2f_aime_1983_p1.thy"), lang: "isabelle", repo: "openai/miniF2F", path: "aime_1983_p1.thy" })).toBeNull()
  })
})

describe("AlgebraicStack in proof-pile-2", () => {
  it("runs on the embedded sample; dag sql answers per language; quirks counted", () => {
    const box = sandbox("stack")
    const s = summary(dag(box, ["run", "proof-pile-2", "--select", "stack/filter", "--select", "stack/chunk-dedup", "--json"]))
    const f = nodeOf(s, "stack/filter")
    expect(f.rows.in).toBe(37)
    expect(f.dropped).toMatchObject({ "c: no-math-include": 2, "tex: not-english": 1, "julia: large-not-tests": 1, "cobol: unsupported-language": 1 })
    expect(nodeOf(s, "stack/chunk-dedup").dropped).toEqual({ "duplicate-chunk": 1 })
    const rows = JSON.parse(dag(box, ["sql", "select lang, count(*)::INT as n from stack_filter group by 1 order by 1", "--format", "json"]).stdout) as Array<{ lang: string; n: number }>
    expect(rows.find((r) => r.lang === "Python")?.n).toBe(3) // numpy, sympy, and sagemaker (faithful)
    const fixed = summary(dag(box, ["run", "proof-pile-2", "--select", "stack/filter", "--param", "stack/filter.fixUpstreamBugs=true", "--json"]))
    expect(nodeOf(fixed, "stack/filter").dropped["c: no-math-include"]).toBe(1) // fftw3.h is kept once fixed
    expect(nodeOf(fixed, "stack/filter").dropped["python: no-math-import"]).toBe(2) // sagemaker is dropped once fixed
  })
  it("a Parquet file without The Stack's columns fails naming file and columns; bad JSONL lines are counted", async () => {
    const box = sandbox("stackbad")
    const bad = path.join(box.dir, "bad.parquet")
    const { DuckDBInstance } = await import("@duckdb/node-api")
    const conn = await (await DuckDBInstance.create(":memory:")).connect()
    await conn.run(`COPY (SELECT 'x' AS content, 'Python' AS lang) TO '${bad}' (FORMAT parquet)`)
    conn.closeSync()
    const r = dag(box, ["run", "proof-pile-2", "--select", "stack/source", "--param", `stack/source.paths=${bad}`])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/unit .*bad\.parquet: missing columns max_stars_repo_path, max_stars_repo_name, ext, size for the layout of The Stack/)
    const empty = path.join(box.dir, "empty.parquet")
    fs.writeFileSync(empty, "")
    const e = summary(dag(box, ["run", "proof-pile-2", "--select", "stack/source", "--param", `stack/source.paths=${empty}`, "--json"]))
    expect(nodeOf(e, "stack/source").dropped).toEqual({ "empty-file": 1 })
    const jsonl = path.join(box.dir, "mixed.jsonl")
    fs.writeFileSync(
      jsonl,
      Buffer.concat([
        Buffer.from(JSON.stringify({ text: "Theorem a : True. Proof. trivial. Qed.", lang: "coq", repo: "a/b", path: "x.v" }) + "\n"),
        Buffer.from('{"text": "bad '),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('", "lang": "coq", "repo": "a/b", "path": "y.v"}\n{broken\n{"lang": "coq"}\n'),
      ])
    )
    const j = summary(dag(box, ["run", "proof-pile-2", "--select", "stack/github-source", "--param", `stack/github-source.paths=${jsonl}`, "--json"]))
    expect(nodeOf(j, "stack/github-source")).toMatchObject({ rows: { out: 1 }, dropped: { "invalid-utf8": 1, "invalid-json": 1, "missing-fields": 1 } })
  })
})

describe("splits", () => {
  it("numpy's legacy permutation is reproduced exactly (values checked against numpy 2.4)", async () => {
    const { numpyPermutation } = await import("../nodes/stack/numpy-random.js")
    expect(numpyPermutation(10, 74)).toEqual([0, 5, 7, 6, 3, 2, 8, 1, 4, 9])
    expect(numpyPermutation(20, 72)).toEqual([12, 6, 3, 9, 2, 1, 11, 4, 13, 0, 8, 15, 7, 17, 16, 18, 5, 10, 14, 19])
  })
  const hasNumpy = (() => {
    const r = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" })
    return r.status === 0
  })()
  it.skipIf(!hasNumpy)("matches numpy on larger permutations (python3 + numpy installed)", async () => {
    const { numpyPermutation } = await import("../nodes/stack/numpy-random.js")
    const r = spawnSync("python3", ["-c", "import numpy as np, json; np.random.seed(74); print(json.dumps(np.random.permutation(5000).tolist()))"], { encoding: "utf8" })
    expect(numpyPermutation(5000, 74)).toEqual(JSON.parse(r.stdout))
  })
  it("assigns max(⌊0.005·n⌋, 1) documents each to validation and test", async () => {
    const { splitAssignment } = await import("../nodes/stack/split.js")
    const a = splitAssignment(1000, 0.005, 74)
    expect([...a].filter((x) => x === 1)).toHaveLength(5)
    expect([...a].filter((x) => x === 2)).toHaveLength(5)
    const small = splitAssignment(18, 0.005, 74)
    expect([...small].filter((x) => x === 2)).toHaveLength(1)
  })
})
