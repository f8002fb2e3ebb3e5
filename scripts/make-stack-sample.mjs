// Generates the embedded AlgebraicStack sample: samples/stack/the-stack-sample.parquet (The Stack's
// columns) and samples/stack/github-sample.jsonl (GitHub records). Every file is written by the mathdag
// team: math and non-math files per language, and edge cases at the rules' thresholds and quirks.
//   node scripts/make-stack-sample.mjs
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { DuckDBInstance } from "@duckdb/node-api"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const out = path.join(root, "samples", "stack")
fs.mkdirSync(out, { recursive: true })

const stack = []
const file = (lang, repo, p, content) => stack.push({ content, lang, max_stars_repo_path: p, max_stars_repo_name: repo, ext: p.split(".").pop(), size: Buffer.byteLength(content) })

file("Python", "team/linalg", "solve.py", "import numpy as np\n\ndef solve(a, b):\n    \"\"\"Solve a x = b by LU decomposition.\"\"\"\n    return np.linalg.solve(a, b)\n")
file("Python", "team/symbolic", "series.py", "from sympy import symbols, series, sin\n\nx = symbols('x')\nprint(series(sin(x), x, 0, 8))\n")
file("Python", "team/ml-deploy", "deploy.py", "import sagemaker\n\nsession = sagemaker.Session()\nprint(session.default_bucket())\n") // kept only by the faithful rule
file("Python", "team/web", "server.py", "from flask import Flask\n\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'hello'\n")
file("Python", "team/config", "settings.py", "{\n  \"debug\": true\n}\nimport numpy\n")
file("Python", "team/tables", "digits.py", "import numpy as np\nT = [" + Array.from({ length: 60 }, (_, i) => String(1000 + i)).join(",") + "]\n")
file("C", "team/gsl-demo", "bessel.c", "#include <stdio.h>\n#include <gsl/gsl_sf_bessel.h>\n\nint main(void) {\n  double y = gsl_sf_bessel_J0(5.0);\n  printf(\"J0(5) = %.18e\\n\", y);\n  return 0;\n}\n")
file("C", "team/fft", "transform.c", "#include <fftw3.h>\n\nvoid forward(fftw_complex *in, fftw_complex *out, int n) {\n  fftw_plan p = fftw_plan_dft_1d(n, in, out, FFTW_FORWARD, FFTW_ESTIMATE);\n  fftw_execute(p);\n  fftw_destroy_plan(p);\n}\n") // dropped by the faithful rule (missing comma upstream)
file("C", "team/cli", "hello.c", "#include <stdio.h>\n\nint main(void) {\n  puts(\"hello\");\n  return 0;\n}\n")
file("C++", "team/eigen-demo", "lsq.cpp", "#include <Eigen/Dense>\n\nEigen::VectorXd lsq(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {\n  return a.colPivHouseholderQr().solve(b);\n}\n")
file("C++", "team/lookup", "table.cpp", "#include <boost/array.hpp>\nboost::array<int, 12> t = {101, 202, 303, 404, 505, 606, 707, 808, 909, 1001, 1102, 1203};\n")
file("C++", "team/game", "main.cpp", "#include <iostream>\n\nint main() {\n  std::cout << \"play\" << std::endl;\n}\n")
file("Haskell", "team/hmatrix-demo", "Solve.hs", "import Numeric.LinearAlgebra\n\nsolveSystem :: Matrix Double -> Vector Double -> Vector Double\nsolveSystem a b = a <\\> b\n")
file("Haskell", "team/odd-import", "Odd.hs", "import NumericXLinearAlgebra\n\nmain = print 1\n") // "." is a regex wildcard upstream
file("Haskell", "team/web", "Main.hs", "import Data.List (sort)\n\nmain :: IO ()\nmain = print (sort [3, 1, 2])\n")
file("R", "team/stats", "regress.R", "fit <- lm(y ~ x, data = df)\nsummary(fit)\nconfint(fit)\n")
file("R", "team/mac", "resource.r", "/* Resource fork of an old Mac file */\ndata 'STR ' (128) { \"hello\" };\n")
file("R", "team/xml", "layout.r", "<?xml version=\"1.0\"?>\n<layout/>\n")
file("Maple", "team/maple", "integrals.mpl", "int(sin(x)^2, x = 0 .. Pi);\nsimplify(%);\n")
file("Maple", "team/maple", "export.mpl", "<?xml version=\"1.0\"?><worksheet/>")
file("Lean", "team/lean", "Nat.lean", "theorem add_zero' (n : Nat) : n + 0 = n := by simp\n")
file("Julia", "team/julia", "newton.jl", "function newton(f, df, x; tol=1e-12)\n    while abs(f(x)) > tol\n        x -= f(x) / df(x)\n    end\n    return x\nend\n")
file("Julia", "team/julia", "data.jl", "[1, 2, 3]\n")
file("Julia", "team/julia", "big.jl", "x = \"" + "a".repeat(100_000) + "\"\n") // ≥ 1e5 bytes and not a test file
file("TeX", "team/notes", "notes/groups.tex", "\\documentclass{article}\n\\begin{document}\n\\section{Groups}\nA group is a set with an associative operation, an identity element and inverses. Every subgroup of a cyclic group is cyclic, and the order of every element divides the order of a finite group.\n\\end{document}\n")
file("TeX", "team/notes", "notes/plot.tex", "\\section{Plot}\nThe figure below was produced with gnuplot from the data in the appendix of this report.\n")
file("TeX", "team/notes", "notes/letter.tex", "\\documentclass{letter}\n\\begin{document}\nDear reader, this letter has no sections at all, only a greeting and a signature.\n\\end{document}\n")
file("TeX", "team/notes", "latex/template.tex", "\\section{Template}\nThis file lives in a latex directory and is a template for other documents written in English.\n")
file("TeX", "team/notes", "notes/groupes.tex", "\\section{Groupes}\nUn groupe est un ensemble muni d'une loi associative, d'un élément neutre et d'inverses pour chaque élément. Tout sous-groupe d'un groupe cyclique est cyclique.\n")
file("Jupyter", "team/nb", "calculus.ipynb", JSON.stringify({ metadata: { language_info: { name: "python" } }, cells: [{ cell_type: "markdown", source: ["# Derivatives\n", "We compute $\\\\frac{d}{dx} x^2$ with SymPy.\n", "![plot](data:image/png;base64,AAAA)"] }, { cell_type: "code", source: ["from sympy import symbols, diff\n", "x = symbols('x')\n", "diff(x**2, x)"], outputs: [{ data: { "text/plain": "2*x" } }] }] }))
file("Jupyter", "team/nb", "pandas.ipynb", JSON.stringify({ cells: [{ cell_type: "code", source: "import pandas as pd\npd.read_csv('x.csv')", outputs: [] }] }))
file("GAP", "team/gap", "groups.g", "G := SymmetricGroup(4);;\nSize(G);\n")
file("Fortran", "team/fortran", "dot.f90", "program dot\n  real :: a(3) = [1.0, 2.0, 3.0]\n  print *, dot_product(a, a)\nend program dot\n")
file("Idris", "team/idris", "Vect.idr", "data Vect : Nat -> Type -> Type where\n  Nil : Vect 0 a\n  (::) : a -> Vect n a -> Vect (S n) a\n")
file("Agda", "team/agda", "Nat.agda", "data ℕ : Set where\n  zero : ℕ\n  suc : ℕ → ℕ\n")
file("Isabelle", "team/isabelle", "Sum.thy", "theory Sum imports Main begin\nlemma \"sum_list [1..<n] = n * (n - 1) div 2\" sorry\nend\n")
file("COBOL", "team/legacy", "pay.cbl", "IDENTIFICATION DIVISION.\nPROGRAM-ID. PAY.\n")

const github = [
  { text: "Theorem plus_O : forall n : nat, n + 0 = n.\nProof. induction n; simpl; auto. Qed.\n", lang: "coq", repo: "team/coq-basics", path: "Plus.v" },
  { text: "module counter(input clk, output reg q); always @(posedge clk) q <= ~q; endmodule\n", lang: "coq", repo: "team/hdl", path: "counter.v" },
  { text: "(* This file was automatically generated *)\nDefinition x := 1.\n", lang: "coq", repo: "team/gen", path: "Gen.v" },
  { text: "theorem two_mul (n : ℕ) : 2 * n = n + n := by ring\n", lang: "lean", repo: "team/lean-basics", path: "TwoMul.lean" },
  { text: "theorem test1 : 1 + 1 = 2 := rfl\n", lang: "lean", repo: "someone/miniF2F", path: "Test.lean" },
  { text: "theorem dep : True := trivial\n", lang: "lean", repo: "team/proj", path: "_target/deps/mathlib/Dep.lean" },
  { text: "def f (n : ℕ) : ℕ := n + 1\n", lang: "lean", repo: "team/defs", path: "Defs.lean" },
  { text: "theory T imports Main begin\nlemma \"x = x\" by simp\nend\n", lang: "isabelle", repo: "team/isa", path: "T.thy" },
  { text: "theory U imports Main begin\nlemma \"y = y\" by simp\nend\n", lang: "isabelle", repo: "mirror-afp-2021-1", path: "U.thy" },
  { text: "function y = sq(x)\n  y = x.^2;\nend\n", lang: "matlab", repo: "team/matlab", path: "sq.m" },
  { text: "#import <Foundation/Foundation.h>\n@interface Foo : NSObject\n@end\n", lang: "matlab", repo: "team/objc", path: "Foo.m" },
  // an exact copy in another repository: chunk dedup keeps the first
  { text: "Theorem plus_O : forall n : nat, n + 0 = n.\nProof. induction n; simpl; auto. Qed.\n", lang: "coq", repo: "fork/coq-basics", path: "Plus.v" },
]

const instance = await DuckDBInstance.create(":memory:")
const conn = await instance.connect()
const tmp = path.join(out, ".stack.json")
fs.writeFileSync(tmp, stack.map((r) => JSON.stringify(r)).join("\n"))
await conn.run(`COPY (SELECT * FROM read_json('${tmp}', format = 'newline_delimited', columns = {content: 'VARCHAR', lang: 'VARCHAR', max_stars_repo_path: 'VARCHAR', max_stars_repo_name: 'VARCHAR', ext: 'VARCHAR', size: 'BIGINT'})) TO '${path.join(out, "the-stack-sample.parquet")}' (FORMAT parquet, COMPRESSION zstd)`)
fs.rmSync(tmp)
fs.writeFileSync(path.join(out, "github-sample.jsonl"), github.map((r) => JSON.stringify(r)).join("\n") + "\n")
console.log(`samples/stack: ${stack.length} Stack files, ${github.length} GitHub records`)
