/**
 * Test sets for overlap checks: JSON Lines files named in a comma-separated list `NAME=PATH`
 * (local paths or hf:// entries). Fields are recognised by name — MATH's `problem` and `solution`,
 * GSM8k's `question` and `answer` — and test ids are `idx` when present, else the line number
 * (0-based, the datasets' own order). Malformed lines are counted, not fatal.
 */
import * as fs from "node:fs"
import { resolveInput } from "../../engine/paths.js"

export const TEST_FIELDS = ["problem", "solution", "question", "answer"] as const

export interface TestExample {
  readonly set: string
  readonly id: string
  readonly field: string
  readonly text: string
}

export const parseTestSets = (spec: string): Array<{ name: string; file: string }> =>
  spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.indexOf("=")
      if (eq <= 0) throw new Error(`test set "${entry}" must look like NAME=PATH (e.g. MATH=data/MATH_test.jsonl)`)
      const file = entry.slice(eq + 1)
      return { name: entry.slice(0, eq), file: resolveInput(file) }
    })

export const readTestSet = (name: string, file: string, onBad: (reason: string) => void): Array<TestExample> => {
  const out: Array<TestExample> = []
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!line.trim()) return
      let row: Record<string, unknown>
      try {
        row = JSON.parse(line) as Record<string, unknown>
      } catch {
        onBad(`test set ${name}: invalid JSON`)
        return
      }
      const id = row.idx !== undefined ? String(row.idx) : String(i)
      const fields = TEST_FIELDS.filter((f) => typeof row[f] === "string")
      if (fields.length === 0) onBad(`test set ${name}: no problem/solution/question/answer field`)
      for (const f of fields) out.push({ set: name, id, field: f, text: row[f] as string })
    })
  return out
}
