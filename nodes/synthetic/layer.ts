/**
 * Tiny nodes for the orchestration benchmark: each makes a one-row dataset from two parents,
 * so the measured time is the engine's (planning, keys, commits), not the work.
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"

export const Cell = Schema.Struct({ v: Schema.Int })

export const seedNode = (name: string, seed: number) =>
  Node.global({
    name,
    version: 1,
    inputs: {},
    outputs: { out: Node.Dataset(Cell) },
    params: Schema.Struct({ seed: Schema.optionalWith(Schema.Int, { default: () => seed }) }),
    run: (ctx) => ctx.outputs.out.write([{ v: ctx.params.seed }]),
  })

export const combineNode = (name: string) =>
  Node.global({
    name,
    version: 1,
    inputs: { a: Node.Dataset(Cell), b: Node.Dataset(Cell) },
    outputs: { out: Node.Dataset(Cell) },
    run: (ctx) => ctx.outputs.out.writeQuery(`SELECT ((a.v * 31 + b.v) % 1000003)::BIGINT AS v FROM a, b`),
  })
