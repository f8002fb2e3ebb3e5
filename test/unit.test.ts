import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { columnsOf, duckdbType, UnsupportedSchemaError } from "../engine/columns.js"
import { parseConfig } from "../engine/config.js"
import { canonicalJson, hashStruct } from "../engine/hash.js"
import * as Node from "../engine/node.js"
import { parseOverride, resolveParams } from "../engine/params.js"
import * as Pipeline from "../engine/pipeline.js"
import { diffKeys, keyOf, keyStruct } from "../engine/plan.js"

const Row = Schema.Struct({ id: Schema.String, n: Schema.Int, tags: Schema.Array(Schema.String), score: Schema.NullOr(Schema.Number) })

const src = Node.source({
  name: "t/src",
  version: 1,
  output: Row,
  units: () => Either.right([]) as never,
  read: function* () {},
})
const double = Node.map({
  name: "t/double",
  version: 1,
  input: Row,
  output: Row,
  params: Schema.Struct({ factor: Schema.optionalWith(Schema.Int, { default: () => 2 }), label: Schema.optionalWith(Schema.String, { default: () => "x" }) }),
  row: (r, p) => (r.n < 0 ? Node.Drop("negative") : Node.Keep({ ...r, n: r.n * p.factor })),
})

describe("hash", () => {
  it("canonical JSON ignores key order and drops undefined fields", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}')
    expect(hashStruct({ a: 1, b: 2 })).toBe(hashStruct({ b: 2, a: 1 }))
    expect(hashStruct({ a: 1 })).not.toBe(hashStruct({ a: 2 }))
  })
})

describe("columns", () => {
  it("derives column types from a row Schema", () => {
    const cols = columnsOf(Row)
    expect(cols.map((c) => [c.name, duckdbType(c.type), c.nullable])).toEqual([
      ["id", "VARCHAR", false],
      ["n", "BIGINT", false],
      ["tags", "VARCHAR[]", false],
      ["score", "DOUBLE", true],
    ])
  })
  it("rejects what cannot be stored, naming the column", () => {
    const Bad = Schema.Struct({ when: Schema.DateFromString })
    expect(() => columnsOf(Bad)).toThrow(UnsupportedSchemaError)
    expect(() => columnsOf(Bad)).toThrow(/column when/)
  })
})

describe("node constructors", () => {
  it("reject bad names and compute a code hash from the functions", () => {
    expect(() => Node.map({ name: "Bad Name", version: 1, input: Row, output: Row, row: Node.Keep })).toThrow(/invalid/)
    const other = Node.map({ name: "t/double", version: 1, input: Row, output: Row, row: (r) => Node.Keep(r) })
    expect(other.codeHash).not.toBe(double.codeHash)
  })
})

describe("pipeline validation", () => {
  it("accepts a well-wired pipeline", () => {
    const p = Pipeline.make("ok", (b) => ({ out: b.add(double, b.add(src)) }))
    expect(Pipeline.validate(p)).toEqual([])
  })
  it("names the node on duplicates, dangling inputs and cycles", () => {
    const dup = Pipeline.make("dup", (b) => {
      const s = b.add(src)
      b.add(double, s)
      b.add(double, s)
    })
    expect(
      Pipeline.validate(dup)
        .map((e) => e.message)
        .join("\n")
    ).toMatch(/node "t\/double" is added twice/)

    const dangling: Pipeline.Pipeline = { name: "dangling", description: "", targets: {}, nodes: [{ node: double, inputs: { in: { node: "t/nowhere", output: "out" } } }] }
    const [e] = Pipeline.validate(dangling)
    expect(e?.node).toBe("t/double")
    expect(e?.message).toMatch(/reads "t\/nowhere", which is not in the pipeline/)

    const other = Node.map({ name: "t/other", version: 1, input: Row, output: Row, row: Node.Keep })
    const cyclic: Pipeline.Pipeline = {
      name: "cyclic",
      description: "",
      targets: {},
      nodes: [
        { node: double, inputs: { in: { node: "t/other", output: "out" } } },
        { node: other, inputs: { in: { node: "t/double", output: "out" } } },
      ],
    }
    expect(
      Pipeline.validate(cyclic)
        .map((x) => x.message)
        .join("\n")
    ).toMatch(/cycle t\/double → t\/other → t\/double/)

    const unwired: Pipeline.Pipeline = { name: "unwired", description: "", targets: {}, nodes: [{ node: double, inputs: {} }] }
    expect(Pipeline.validate(unwired)[0]?.message).toMatch(/input "in" is not wired/)
  })
  it("selects ancestors and descendants", () => {
    const p = Pipeline.make("sel", (b) => ({ out: b.add(double, b.add(src)) }))
    expect([...Pipeline.ancestorsOf(p, ["t/double"])].sort()).toEqual(["t/double", "t/src"])
    expect([...Pipeline.descendantsOf(p, ["t/src"])].sort()).toEqual(["t/double", "t/src"])
  })
})

describe("params", () => {
  const p = Pipeline.make("params", (b) => ({ out: b.add(double, b.add(src)) }))
  const names = p.nodes.map((x) => x.node.name)
  it("parses NODE.PARAM=VALUE with '/' or '.' in the node name", () => {
    expect(Either.getOrThrow(parseOverride("t/double.factor=3", names))).toEqual({ node: "t/double", path: ["factor"], raw: "3" })
    expect(Either.getOrThrow(parseOverride("t.double.factor=3", names))).toEqual({ node: "t/double", path: ["factor"], raw: "3" })
    const bad = parseOverride("nope.factor=3", names)
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/no node "nope"/)
  })
  it("applies defaults, layers and flags, coercing by the Schema", () => {
    const ov = [Either.getOrThrow(parseOverride("t/double.factor=5", names)), Either.getOrThrow(parseOverride("t/double.label=7", names))]
    const r = Either.getOrThrow(resolveParams(p, [{ "t/double": { factor: 3 } }], ov))
    expect(r.values.get("t/double")).toEqual({ factor: 5, label: "7" })
    const d = Either.getOrThrow(resolveParams(p, [], []))
    expect(d.values.get("t/double")).toEqual({ factor: 2, label: "x" })
  })
  it("gives one-line errors naming node and param", () => {
    const wrong = resolveParams(p, [], [Either.getOrThrow(parseOverride("t/double.factor=abc", names))])
    expect(Either.isLeft(wrong) && wrong.left.message).toMatch(/node t\/double: param factor is invalid/)
    const unknown = resolveParams(p, [], [Either.getOrThrow(parseOverride("t/double.fator=1", names))])
    expect(Either.isLeft(unknown) && unknown.left.message).toMatch(/unknown param "fator"; did you mean "factor"\?; it takes factor, label/)
  })
})

describe("keys and staleness", () => {
  const runtime = { store: "1", duckdb: "x" }
  it("a version bump, a param and an input change each change the key, with their category", () => {
    const base = keyStruct(double, { factor: 2 }, { in: ["aaa"] }, runtime)
    const bumped = keyStruct({ ...double, version: 2 }, { factor: 2 }, { in: ["aaa"] }, runtime)
    const param = keyStruct(double, { factor: 3 }, { in: ["aaa"] }, runtime)
    const data = keyStruct(double, { factor: 2 }, { in: ["bbb"] }, runtime)
    const dep = keyStruct(double, { factor: 2 }, { in: ["aaa"] }, { ...runtime, duckdb: "y" })
    const keys = new Set([base, bumped, param, data, dep].map(keyOf))
    expect(keys.size).toBe(5)
    expect(diffKeys(base, bumped)).toEqual([{ category: "CODE", detail: "version 1 → 2" }])
    expect(diffKeys(base, param)).toEqual([{ category: "PARAMS", detail: "factor 2 → 3" }])
    expect(diffKeys(base, data)[0]?.category).toBe("DATA")
    expect(diffKeys(base, dep)).toEqual([{ category: "DEPENDENCIES", detail: 'runtime duckdb "x" → "y"' }])
    expect(diffKeys(base, base)).toEqual([])
    expect(diffKeys(undefined, base)[0]?.category).toBe("NEW")
  })
})

describe("config", () => {
  it("validates dag.config.ts and names the bad field", () => {
    expect(Either.isRight(parseConfig({ store: "x", profiles: { ci: { workers: 2 } } }))).toBe(true)
    const bad = parseConfig({ concurrency: 0 })
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/concurrency/)
    const extra = parseConfig({ stor: "x" })
    // one line naming the key and the nearest real one, not the list of every key
    expect(Either.isLeft(extra) && extra.left.message).toBe('dag.config.ts: unknown key "stor"; did you mean "store"?')
    const nested = parseConfig({ profiles: { ci: { wokers: 2 } } })
    expect(Either.isLeft(nested) && nested.left.message).toBe('dag.config.ts: unknown key "profiles.ci.wokers"; did you mean "workers"?')
  })
})

describe("math in report cells", () => {
  it("renders every $…$, $$…$$, \\(…\\) and \\[…\\] span as MathML and escapes the text around it", async () => {
    const { mathToHtml, hasMath } = await import("../engine/report/math.js")
    const text = "Every quadratic $ax^2+bx+c$ with $a \\neq 0$ <b>and</b> \\(x\\) and $$\\frac{1}{2}$$ and \\[y\\]"
    expect(hasMath(text)).toBe(true) // asked first, as the report does: it must not move where rendering starts
    const out = mathToHtml(text)
    expect(out.match(/<math/g)?.length).toBe(5)
    expect(out).toContain("&lt;b&gt;and&lt;/b&gt;")
    expect(out).not.toContain("$")
    expect(hasMath("no math here, 5 dollars")).toBe(false)
    // what KaTeX cannot parse stays as its (escaped) source
    expect(mathToHtml("bad $\\frac{1}{$ end")).toContain("$\\frac{1}{$")
  })
})

describe("publish targets and names", () => {
  it("parses hf:// targets, refuses a branch with a slash, and checks configuration names", async () => {
    const { parseTarget } = await import("../engine/publish/upload.js")
    const { publishConfig } = await import("../engine/publish/spec.js")
    expect(parseTarget("hf://datasets/me/pp2@v2")).toEqual({ type: "dataset", repo: "me/pp2", revision: "v2" })
    expect(parseTarget("hf://me/model")).toEqual({ type: "model", repo: "me/model", revision: "main" })
    expect(parseTarget("hf://datasets/me/pp2@feat/x")).toBeUndefined()
    expect(parseTarget("hf://datasets/../x")).toBeUndefined()
    const data = { node: "a", output: "out" }
    expect(() => publishConfig({ name: "../escape", description: "", data })).toThrow(/names a folder/)
    expect(publishConfig({ name: "open-web-math", description: "", data, split: "column" }).parts[0]!.split).toEqual({ column: "split" })
  })
})
