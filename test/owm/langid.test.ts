/** owm/langid with the real fastText models: the bundled lid.176.ftz, and a user model trained here. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { langid, languageText } from "../../nodes/owm/langid.js"
import { tempDir } from "../helpers.js"

const doc = (text: string) => ({ id: "d", url: "u", warc_record_id: "d", title: "", text, math_found: true, math_sources: [] })
const params = { language: "en", minProbability: 0.5, modelPath: "" }

describe("owm/langid", () => {
  it("removes math and code before predicting", () => {
    expect(languageText("Let $x^2$ be $$\\int f$$ and ```code``` here \\$5")).toBe("Let be and here \\$5")
  })
  it("keeps English with its probability and drops French, with the bundled model", async () => {
    const model = await langid.setup!(params)
    const en = langid.row(doc("The derivative of a function measures how quickly its value changes when the input changes. We write $f'(x)$ for it."), params, model)
    expect(en._tag).toBe("Keep")
    const kept = en._tag === "Keep" ? en.rows[0]! : undefined
    expect(kept?.lang).toBe("en")
    expect(kept?.lang_score).toBeGreaterThan(0.5)
    expect(langid.row(doc("La dérivée d'une fonction mesure la vitesse à laquelle sa valeur change."), params, model)).toEqual({ _tag: "Drop", reason: "not-en" })
    expect(langid.row(doc("$x$"), params, model)).toEqual({ _tag: "Drop", reason: "no-prose" })
  })

  // Debian's fasttext CLI trains a tiny model (`.ci/run` installs it); skipped where it is missing.
  const hasFasttext = spawnSync("fasttext", [], { encoding: "utf8" }).error === undefined
  it.skipIf(!hasFasttext)(
    "loads a user's fastText model from modelPath (trained here with the fasttext CLI)",
    async () => {
      const dir = tempDir("fasttext")
      const lines: Array<string> = []
      const en = [
        "the function is continuous on the closed interval",
        "we prove the theorem by induction on n",
        "the sum of two even numbers is even",
        "every bounded sequence has a convergent subsequence",
      ]
      const de = [
        "die funktion ist stetig auf dem intervall",
        "wir beweisen den satz durch induktion",
        "die summe zweier gerader zahlen ist gerade",
        "jede beschränkte folge hat eine konvergente teilfolge",
      ]
      for (let i = 0; i < 20; i++) for (const s of en) lines.push(`__label__en ${s}`)
      for (let i = 0; i < 20; i++) for (const s of de) lines.push(`__label__de ${s}`)
      fs.writeFileSync(path.join(dir, "train.txt"), lines.join("\n"))
      const r = spawnSync("fasttext", ["supervised", "-input", path.join(dir, "train.txt"), "-output", path.join(dir, "model"), "-epoch", "25", "-minCount", "1", "-thread", "1", "-seed", "1"], {
        encoding: "utf8",
      })
      expect(r.status, r.stderr).toBe(0)
      const p = { ...params, modelPath: path.join(dir, "model.bin") }
      const model = await langid.setup!(p)
      const kept = langid.row(doc("we prove the sum is even by induction"), p, model)
      expect(kept._tag).toBe("Keep")
      expect(langid.row(doc("wir beweisen die summe durch induktion"), p, model)).toEqual({ _tag: "Drop", reason: "not-en" })
    },
    60_000
  )
})
