/** Wiring is checked when a pipeline is built: rows an input cannot read fail before anything runs. */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Node from "../engine/node.js"
import * as Pipeline from "../engine/pipeline.js"
import { ROOT } from "./helpers.js"

const Doc = Schema.Struct({ id: Schema.String, text: Schema.String, score: Schema.NullOr(Schema.Number) })
const source = Node.source({ name: "w/source", version: 1, output: Doc, units: () => Effect.succeed([]), read: function* () {} })

describe("wiring checked when the pipeline is built", () => {
  it("names both nodes and every missing or mismatched field", () => {
    const Wants = Schema.Struct({ id: Schema.String, text: Schema.Int, score: Schema.Number, lang: Schema.String })
    const reader = Node.map({ name: "w/reader", version: 1, input: Wants, output: Wants, row: (r) => Node.Keep(r) })
    // TypeScript would reject this wiring too; the check is for what the types cannot see (casts, JS)
    const p = Pipeline.make("w", (b) => ({ out: b.add(reader, b.add(source) as never) }))
    const errors = Pipeline.validate(p)
    expect(errors.map((e) => e.message)).toEqual([
      'pipeline w: "w/source" cannot feed "w/reader": field "text" is string, expected int; field "score" may be null, but is required; field "lang" (string) is missing',
    ])
  })

  it("accepts extra fields, ints read as doubles, and the same Schema", () => {
    const Narrow = Schema.Struct({ id: Schema.String, score: Schema.NullOr(Schema.Number) })
    const ok = Node.map({ name: "w/ok", version: 1, input: Narrow, output: Narrow, row: (r) => Node.Keep(r) })
    expect(Pipeline.validate(Pipeline.make("w2", (b) => ({ out: b.add(ok, b.add(source) as never) })))).toEqual([])
    const WithInt = Schema.Struct({ n: Schema.Int })
    const WithDouble = Schema.Struct({ n: Schema.Number })
    const ints = Node.source({ name: "w/ints", version: 1, output: WithInt, units: () => Effect.succeed([]), read: function* () {} })
    const doubles = Node.map({ name: "w/doubles", version: 1, input: WithDouble, output: WithDouble, row: (r) => Node.Keep(r) })
    expect(Pipeline.validate(Pipeline.make("w3", (b) => ({ out: b.add(doubles, b.add(ints) as never) })))).toEqual([])
  })

  it("every pipeline this repository ships passes the check", async () => {
    const files = fs.readdirSync(path.join(ROOT, "pipelines")).filter((f) => f.endsWith(".ts"))
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const f of files) {
      const p = (await import(path.join(ROOT, "pipelines", f))).default as Pipeline.Pipeline
      expect(
        Pipeline.validate(p).map((e) => e.message),
        f
      ).toEqual([])
    }
  })
})
