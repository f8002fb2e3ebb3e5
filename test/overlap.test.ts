/** Test-set overlap: n-gram keys, the standalone overlap pipeline, planted real MATH / GSM8k problems. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ngramKeys } from "../nodes/overlap/ngram.js"
import { ROOT, dag, nodeOf, readRunRecord, sandbox, summary } from "./helpers.js"

const words = (n: number, prefix = "w") => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" ")

describe("n-gram keys", () => {
  it("split on whitespace and key every window of n words", () => {
    expect(ngramKeys(words(29), 30)).toEqual([])
    expect(ngramKeys(words(32), 30)).toHaveLength(3)
    expect(ngramKeys(`${words(30)}\n\t`, 30)).toEqual(ngramKeys(words(30), 30))
    expect(ngramKeys(words(30, "a"), 30)).not.toEqual(ngramKeys(words(30, "b"), 30))
  })
})

describe("overlap pipeline (standalone)", () => {
  it("records every hit, counts bad lines and short documents, and decontaminates (drop or flag)", () => {
    const box = sandbox("overlap")
    const test = path.join(box.dir, "test.jsonl")
    const problem = `Let ${words(40, "p")} be given`
    fs.writeFileSync(test, [JSON.stringify({ problem, solution: words(35, "s"), idx: 7 }), "{broken", JSON.stringify({ question: words(31, "q"), answer: "#### 3" })].join("\n"))
    const corpus = path.join(box.dir, "corpus.jsonl")
    fs.writeFileSync(
      corpus,
      [
        JSON.stringify({ id: "a", text: `intro ${problem} outro` }),
        JSON.stringify({ id: "b", text: `both ${words(35, "s")} and ${words(31, "q")}` }),
        JSON.stringify({ id: "c", text: words(100, "clean") }),
        JSON.stringify({ id: "d", text: "short text" }),
        JSON.stringify({ id: "e", text: "" }),
      ].join("\n")
    )
    const p = ["--param", `docs.paths=${corpus}`, "--param", `overlap/ngram.testSets=T=${test}`, "--json"]
    const s = summary(dag(box, ["run", "overlap", ...p]))
    // the JSON Lines source reads its files on worker threads
    const docsNode = readRunRecord(box, s.run).nodes.find((n) => n.node === "docs")!
    expect(docsNode.shardLog.every((x) => (x.thread ?? 0) > 0)).toBe(true)
    expect(nodeOf(s, "docs").dropped).toEqual({ empty: 1 }) // an empty document is dropped where it is read
    expect(nodeOf(s, "overlap/ngram").dropped).toEqual({ "test set T: invalid JSON": 1, "shorter than 30 words": 1 })
    const hits = JSON.parse(dag(box, ["sql", "select id, test_set, test_id, field, ngrams from overlap_ngram order by id, test_id, field", "--format", "json"]).stdout)
    expect(hits).toEqual([
      { id: "a", test_set: "T", test_id: "7", field: "problem", ngrams: 14 },
      { id: "b", test_set: "T", test_id: "2", field: "question", ngrams: 2 },
      { id: "b", test_set: "T", test_id: "7", field: "solution", ngrams: 6 },
    ])
    // the report's overlap table links each (test set, field) row to the first of its hits
    const page = fs.readFileSync(path.join(box.runs, s.run, "report.html"), "utf8")
    const hrefs = [...page.matchAll(/href="#(row-overlap-ngram-[^"]+)"/g)].map((m) => m[1]!)
    expect(hrefs.sort()).toEqual([
      "row-overlap-ngram-hits-up-to-10-per-test-set-and-field-most-shared-n-grams-first-t-problem",
      "row-overlap-ngram-hits-up-to-10-per-test-set-and-field-most-shared-n-grams-first-t-question",
      "row-overlap-ngram-hits-up-to-10-per-test-set-and-field-most-shared-n-grams-first-t-solution",
    ])
    for (const h of hrefs) expect(page).toContain(`<tr id="${h}">`)
    expect(nodeOf(s, "overlap/decontaminate").dropped).toEqual({ "test-set overlap": 2 })
    const kept = JSON.parse(dag(box, ["sql", "select id from overlap_decontaminate__kept order by id", "--format", "json"]).stdout)
    expect(kept.map((r: { id: string }) => r.id)).toEqual(["c", "d"])
    const flagged = summary(dag(box, ["run", "overlap", ...p, "--param", "overlap/decontaminate.mode=flag"]))
    expect(nodeOf(flagged, "overlap/decontaminate").dropped).toEqual({})
    const all = JSON.parse(dag(box, ["sql", "select count(*)::INT as n from overlap_decontaminate__kept", "--format", "json"]).stdout)
    expect(all[0].n).toBe(4)
  })

  const BENCH = path.resolve(ROOT, "..", "shared", "data", "benchmarks")
  it.skipIf(!fs.existsSync(BENCH))("finds MATH and GSM8k test problems planted in documents (real test sets, ../shared)", () => {
    const box = sandbox("overlap-real")
    const math = fs
      .readFileSync(path.join(BENCH, "MATH_test.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
    const gsm = fs
      .readFileSync(path.join(BENCH, "gsm8k_test.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
    const longMath = math.filter((m) => m.problem.split(/\s+/).length >= 40).slice(0, 3)
    const longGsm = gsm.filter((g) => g.question.split(/\s+/).length >= 40).slice(0, 2)
    const corpus = path.join(box.dir, "corpus.jsonl")
    const docs = [
      ...longMath.map((m, i) => ({ id: `m${i}`, text: `Homework help. ${m.problem} Thanks in advance.` })),
      ...longGsm.map((g, i) => ({ id: `g${i}`, text: `Word problem: ${g.question}` })),
      { id: "clean", text: words(200, "z") },
    ]
    fs.writeFileSync(corpus, docs.map((d) => JSON.stringify(d)).join("\n"))
    const r = dag(box, [
      "run",
      "overlap",
      "--param",
      `docs.paths=${corpus}`,
      "--param",
      `overlap/ngram.testSets=MATH=${path.join(BENCH, "MATH_test.jsonl")},GSM8k=${path.join(BENCH, "gsm8k_test.jsonl")}`,
      "--json",
    ])
    expect(r.code, r.stderr).toBe(0)
    const hits = JSON.parse(dag(box, ["sql", "select id, test_set, test_id, field from overlap_ngram where field in ('problem', 'question')", "--format", "json"]).stdout) as Array<{
      id: string
      test_set: string
      test_id: string
    }>
    longMath.forEach((m, i) => expect(hits).toContainEqual(expect.objectContaining({ id: `m${i}`, test_set: "MATH", test_id: String(m.idx) })))
    longGsm.forEach((_, i) => expect(hits.some((h) => h.id === `g${i}` && h.test_set === "GSM8k")).toBe(true))
    expect(hits.some((h) => h.id === "clean")).toBe(false)
  })
})
