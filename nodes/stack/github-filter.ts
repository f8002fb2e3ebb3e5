/**
 * stack/github-filter: AlgebraicStack's GitHub-sourced formal-math files (`process_github.py`):
 * Coq (keywords, not Verilog, not generated), Lean (theorem/lemma/example; ProofNet and miniF2F repos
 * and `_target/deps/` paths banned), Isabelle (theorem/lemma; `mirror-afp-2…` copies banned), MATLAB
 * (not Objective-C or C). Optionally removes named test theorems (LeanDojo/PISA names, one per line).
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { CodeFile } from "../../schemas/code-file.js"
import { standardFilter } from "./rules.js"

const has = (text: string, words: ReadonlyArray<string>) => words.some((w) => text.includes(w))

export const githubRule = (f: { text: string; lang: string; repo: string; path: string }): string | null => {
  const std = standardFilter({ text: f.text, lang: f.lang, path: f.path, ext: "" })
  if (std) return std
  switch (f.lang.toLowerCase()) {
    case "coq":
      if (!has(f.text, ["Theorem", "Proof", "Qed", "Inductive", "Definition", "Fixpoint"])) return "no-coq-keyword"
      if (has(f.text, ["pragma", "endmodule", "posedge", "negedge", "wire"])) return "verilog"
      if (f.text.includes("This file was automatically generated")) return "generated"
      return null
    case "lean": {
      const repo = f.repo.split("/").pop() ?? f.repo
      if (repo === "ProofNet" || repo === "miniF2F") return "banned-repo"
      if (f.path.includes("_target/deps/")) return "banned-path"
      return has(f.text, ["theorem ", "lemma ", "example "]) ? null : "no-theorem"
    }
    case "isabelle": {
      const repo = f.repo.split("/").pop() ?? f.repo
      // upstream: re.match("mirror-afp-2.*", repo) — a prefix match on the repository name
      if (/^mirror-afp-2/.test(repo)) return "banned-repo"
      return has(f.text, ["theorem ", "lemma "]) ? null : "no-theorem"
    }
    case "matlab":
      if (has(f.text, ["#import", "@interface", "@implementation", "@property", "#include"])) return "objective-c-or-c"
      if (/ main\(.*\{$/m.test(f.text)) return "c-main"
      return null
    default:
      return "unsupported-language"
  }
}

/** Removes each named theorem from its statement to the next blank line (first occurrence, as upstream). */
export const removeTheorems = (text: string, names: ReadonlyArray<string>): { text: string; removed: number } => {
  let out = text
  let removed = 0
  for (const name of names) {
    const start = out.indexOf(name)
    if (start < 0) continue
    const gap = out.indexOf("\n\n", start)
    out = out.slice(0, start) + (gap < 0 ? "" : out.slice(gap))
    removed++
  }
  return { text: out, removed }
}

export const githubFilter = Node.map({
  name: "stack/github-filter",
  // cheap per row, but on the main thread it would be the serial ceiling of a large run
  worker: true,
  version: 1,
  description: "GitHub formal-math files (Coq, Lean, Isabelle, MATLAB): keyword, banned-repo and banned-path rules.",
  input: CodeFile,
  output: CodeFile,
  params: Schema.Struct({
    /** a file of theorem names (LeanDojo / PISA test names) whose statements and proofs are removed */
    removeTheoremsFrom: Schema.optionalWith(Schema.String, { default: () => "" }),
  }),
  report: [Cell.bar("Formal files kept per language", "SELECT lang, count(*)::BIGINT AS files FROM self GROUP BY 1 ORDER BY 2 DESC", { x: "lang", y: "files" })],
  externals: (p) => [p.removeTheoremsFrom],
  setup: async (p) =>
    p.removeTheoremsFrom
      ? fs
          .readFileSync(p.removeTheoremsFrom, "utf8")
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
      : [],
  row: (file, _p, names) => {
    const reason = githubRule(file)
    if (reason) return Node.Drop(`${file.lang.toLowerCase()}: ${reason}`)
    return Node.Keep(names.length ? { ...file, text: removeTheorems(file.text, names).text } : file)
  },
})
