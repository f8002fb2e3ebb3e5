/** owm/mathscore: the bundled logistic-regression model, its training code, and a user's fastText model. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { bundledModel, mathscore } from "../../nodes/owm/mathscore.js"
import { features, predict, train } from "../../nodes/owm/mathscore/model.js"
import { tempDir } from "../helpers.js"

const doc = (text: string, math_found: boolean) => ({ id: "d", url: "u", warc_record_id: "d", title: "", text, math_found, math_sources: [] })

describe("owm/mathscore", () => {
  it("the shipped model records how it was trained and how well it did on held-out paragraphs", () => {
    const m = bundledModel()
    expect(m.format).toBe("mathdag-mathscore-v1")
    expect(Number(m.training?.heldOutAccuracy)).toBeGreaterThan(0.85)
  })
  it("scores math high and everyday prose (not in its training set) low", () => {
    const m = bundledModel()
    expect(predict(m, "Suppose $g$ is differentiable and $g'(x) = 2x$ for every $x$; then $g(x) = x^2 + C$ by the mean value theorem.")).toBeGreaterThan(0.8)
    expect(predict(m, "The ferry to the island runs twice a day in winter, and the last boat back leaves at half past five.")).toBeLessThan(0.3)
    expect(predict(m, "Members get early access to the summer sale and a voucher on their birthday when they join the club.")).toBeLessThan(0.3)
  })
  it("features are length-normalised and training separates a toy set", () => {
    const f = features("x x x")
    expect(Math.hypot(...f.values())).toBeCloseTo(1)
    const toy = [
      { text: "let $x$ be an integer and $x^2$ its square", label: 1 as const },
      { text: "the integral $\\int f$ converges", label: 1 as const },
      { text: "we went to the beach on sunday", label: 0 as const },
      { text: "the shop closes at five", label: 0 as const },
    ]
    const m = train(toy, { epochs: 50 })
    expect(predict(m, "let $y$ be an integer")).toBeGreaterThan(predict(m, "we went to the shop"))
  })
  it("applies OpenWebMath's thresholds: 0.15 with found math, 0.8 without", async () => {
    const p = { withMathThreshold: 0.15, withoutMathThreshold: 0.8, modelPath: "", positiveLabel: "__label__math" }
    const score = await mathscore.setup!(p)
    const prose = "The ferry to the island runs twice a day in winter, and the last boat back leaves at half past five."
    expect(mathscore.row(doc(prose, false), p, score)).toEqual({ _tag: "Drop", reason: "low-math-score" })
    const kept = mathscore.row(doc("By induction, $\\sum_{k=1}^n k = n(n+1)/2$ for every $n \\ge 1$.", true), p, score)
    expect(kept._tag).toBe("Keep")
    if (kept._tag === "Keep") expect(kept.rows[0]!.math_score).toBeGreaterThan(0.15)
  })

  // Debian's fasttext CLI trains the user model (`.ci/run` installs it); skipped where it is missing.
  const hasFasttext = spawnSync("fasttext", [], { encoding: "utf8" }).error === undefined
  it.skipIf(!hasFasttext)(
    "loads a user's fastText classifier (trained here with the fasttext CLI)",
    async () => {
      const dir = tempDir("mathscore-ft")
      const math = [
        "let x be a real number and f a continuous function",
        "the integral of f over the interval converges",
        "prove the sum of the series by induction on n",
        "the matrix is invertible iff its determinant is nonzero",
      ]
      const other = ["the train leaves the station at nine", "bake the bread until the crust is brown", "the team won the match on sunday", "free delivery on orders over fifty pounds"]
      const lines = [...Array.from({ length: 25 }, () => math.map((t) => `__label__math ${t}`)).flat(), ...Array.from({ length: 25 }, () => other.map((t) => `__label__other ${t}`)).flat()]
      fs.writeFileSync(path.join(dir, "train.txt"), lines.join("\n"))
      const r = spawnSync("fasttext", ["supervised", "-input", path.join(dir, "train.txt"), "-output", path.join(dir, "math"), "-epoch", "25", "-minCount", "1", "-thread", "1", "-seed", "1"], {
        encoding: "utf8",
      })
      expect(r.status, r.stderr).toBe(0)
      const p = { withMathThreshold: 0.15, withoutMathThreshold: 0.8, modelPath: path.join(dir, "math.bin"), positiveLabel: "__label__math" }
      const score = await mathscore.setup!(p)
      expect(score("prove that the integral of the continuous function converges")).toBeGreaterThan(0.5)
      expect(score("the bread and the train on sunday")).toBeLessThan(0.5)
      expect(mathscore.row(doc("bake the bread on sunday", false), p, score)).toEqual({ _tag: "Drop", reason: "low-math-score" })
    },
    60_000
  )
})
