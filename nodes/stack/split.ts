/**
 * stack/split: train / validation / test splits as AlgebraicStack made them: test_len =
 * max(⌊ratio · n⌋, 1), a numpy permutation (seed 74 for The Stack, 72 for GitHub), then the last
 * test_len permuted documents are test, the test_len before them validation, the rest train.
 * Membership matches numpy bit for bit (nodes/stack/numpy-random.ts); within each split documents
 * keep their input order (upstream writes them in permuted order). Shards hold 50,000 documents.
 */
import { Effect, Schema } from "effect"
import * as Node from "../../engine/node.js"
import { CodeFile } from "../../schemas/code-file.js"
import { numpyPermutation } from "./numpy-random.js"

/** Split of each input position: 0 train, 1 validation, 2 test. */
export const splitAssignment = (n: number, ratio: number, seed: number): Uint8Array => {
  const testLen = Math.max(Math.floor(ratio * n), 1)
  const perm = numpyPermutation(n, seed)
  const out = new Uint8Array(n)
  perm.forEach((original, position) => {
    out[original] = position >= n - testLen ? 2 : position >= n - 2 * testLen ? 1 : 0
  })
  return out
}

export const makeSplit = (name: string, seed: number) =>
  Node.global({
    name,
    version: 1,
    description: `Seeded train/validation/test splits (numpy permutation, seed ${seed}, ratio 0.005 each).`,
    inputs: { files: Node.Dataset(CodeFile) },
    outputs: { train: Node.Dataset(CodeFile), validation: Node.Dataset(CodeFile), test: Node.Dataset(CodeFile) },
    rowsPerShard: 50_000,
    params: Schema.Struct({
      seed: Schema.optionalWith(Schema.Int, { default: () => seed }),
      evalRatio: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.005 }),
    }),
    run: (ctx) =>
      Effect.gen(function* () {
        const [count] = (yield* ctx.sql("SELECT count(*)::BIGINT AS n FROM files")) as Array<{ n: number }>
        const n = count?.n ?? 0
        if (n === 0) return
        const splits = splitAssignment(n, ctx.params.evalRatio, ctx.params.seed)
        const pick = (which: number) =>
          (async function* () {
            let i = 0
            for await (const f of ctx.inputs.files.rows()) if (splits[i++] === which) yield f
          })()
        yield* ctx.outputs.train.write(pick(0))
        yield* ctx.outputs.validation.write(pick(1))
        yield* ctx.outputs.test.write(pick(2))
      }),
  })

export const stackSplit = makeSplit("stack/split", 74)
export const githubSplit = makeSplit("stack/github-split", 72)
