/** ARPA n-gram models: parsing, back-off scoring, the Witten–Bell builder, and owm/perplexity. */
import { describe, expect, it } from "vitest"
import { ArpaFormatError, logProb, parseArpa, perplexity, scoreSentence } from "../../nodes/owm/lm/arpa.js"
import { buildArpa } from "../../nodes/owm/lm/build-arpa.js"
import { normalizeForLm } from "../../nodes/owm/lm/normalize.js"
import { perplexity as perplexityNode } from "../../nodes/owm/perplexity.js"

const TINY = `\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<unk>
-99\t<s>\t-0.5
-0.5\ta\t-0.3
-0.7\t</s>

\\2-grams:
-0.2\t<s> a
-0.4\ta </s>

\\end\\
`

describe("ARPA", () => {
  it("parses n-grams with back-off weights and scores by the back-off recursion", () => {
    const m = parseArpa(TINY)
    expect(m.order).toBe(2)
    expect(m.grams.get("<s> a")).toEqual([-0.2, 0])
    // <s> a </s>: p(a|<s>) seen = -0.2; p(</s>|a) seen = -0.4
    expect(scoreSentence(m, ["a"]).logProb).toBeCloseTo(-0.6)
    // <s> a a </s>: -0.2 + (bow(a) -0.3 + p(a) -0.5) + -0.4
    expect(scoreSentence(m, ["a", "a"]).logProb).toBeCloseTo(-1.4)
    // unknown word: <s> zzz </s> → bow(<s>) + p(<unk>), then bow(<unk>)=0 + p(</s>)
    expect(scoreSentence(m, ["zzz"]).logProb).toBeCloseTo(-0.5 - 1.0 - 0.7)
    expect(perplexity(m, [["a"]])).toBeCloseTo(10 ** (0.6 / 2))
  })
  it("rejects files that are not ARPA, saying where", () => {
    expect(() => parseArpa("hello")).toThrow(ArpaFormatError)
    expect(() => parseArpa("\\data\\\nngram 1=1\n\n\\1-grams:\nnot-a-number a\n\\end\\")).toThrow(/line 5: malformed 1-gram/)
  })
  it("builds a normalised Witten–Bell model: probabilities of every context sum to one", () => {
    const sentences = normalizeForLm("the cat sat on the mat.\nthe dog sat on the log.\na cat and a dog.")
    const m = parseArpa(buildArpa(sentences, 3))
    const vocab = [...m.grams.keys()].filter((k) => !k.includes(" ") && k !== "<s>")
    for (const history of [["<s>"], ["the"], ["sat", "on"], ["on", "the"], ["<s>", "a"]]) {
      const total = vocab.reduce((sum, w) => sum + 10 ** logProb(m, history, w), 0)
      expect(total, history.join(" ")).toBeCloseTo(1, 4)
    }
    expect(perplexity(m, normalizeForLm("the cat sat on the mat."))).toBeLessThan(perplexity(m, normalizeForLm("mat the on sat cat the.")))
  })
  it("normalises like OpenWebMath: math → [EQUATION], lowercase, no accents, digits → 0", () => {
    expect(normalizeForLm("Déjà 42 times, $x^2$ and $$y$$!")).toEqual([["deja", "00", "times", ",", "[EQUATION]", "and", "[EQUATION]", "!"]])
  })
  it("owm/perplexity keeps fluent text with its score and drops text above the threshold", async () => {
    const p = { modelPath: "samples/owm/owm-lm.arpa", maxPerplexity: 30_000 }
    const model = await perplexityNode.setup!(p)
    const doc = (text: string) => ({ id: "d", url: "u", warc_record_id: "d", title: "", text, math_found: true, math_sources: [] })
    const kept = perplexityNode.row(doc("A prime number is a whole number greater than one whose only divisors are one and itself."), p, model)
    expect(kept._tag).toBe("Keep")
    if (kept._tag === "Keep") expect(kept.rows[0]!.perplexity).toBeGreaterThan(1)
    expect(perplexityNode.row(doc("A prime number is a whole number."), { ...p, maxPerplexity: 1.5 }, model)).toEqual({ _tag: "Drop", reason: "perplexity" })
  })
})
