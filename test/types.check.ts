/**
 * Compile-time checks (run by `tsc` in `npm test`'s pretest): wiring a dataset of one row type
 * into an input of another must not type-check.
 */
import { Schema } from "effect"
import * as Node from "../engine/node.js"
import * as Pipeline from "../engine/pipeline.js"

const A = Schema.Struct({ id: Schema.String, text: Schema.String })
const B = Schema.Struct({ id: Schema.String, n: Schema.Number })

const makeA = Node.source({ name: "x/a", version: 1, output: A, units: () => null as never, read: function* () {} })
const useB = Node.map({ name: "x/b", version: 1, input: B, output: B, row: Node.Keep })
const useA = Node.map({ name: "x/c", version: 1, input: A, output: A, row: Node.Keep })
const joinAB = Node.global({ name: "x/j", version: 1, inputs: { a: Node.Dataset(A), b: Node.Dataset(B) }, outputs: { out: Node.Dataset(B) }, run: () => null as never })

export const typed = Pipeline.make("typed", (p) => {
  const a = p.add(makeA)
  const ok = p.add(useA, a)
  // @ts-expect-error a dataset of A rows does not plug into an input of B rows
  p.add(useB, a)
  // @ts-expect-error global inputs are checked by name and row type
  p.add(joinAB, { a, b: ok })
  return { ok }
})
