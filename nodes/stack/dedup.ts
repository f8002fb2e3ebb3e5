/**
 * stack/chunk-dedup: AlgebraicStack's exact-chunk deduplication. Each document is cut into
 * non-overlapping 2,048-character chunks; full chunks (or the whole document when it is shorter)
 * are hashed with SHA-256, and a document with any chunk seen before is dropped — first copy wins,
 * in input order. Like upstream, a duplicate's chunks still count as seen.
 */
import { Effect, Schema } from "effect"
import { createHash } from "node:crypto"
import * as Node from "../../engine/node.js"
import { CodeFile } from "../../schemas/code-file.js"

export const chunkHashes = (text: string, size: number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) {
    const chunk = text.slice(i, i + size)
    if (chunk.length === size || chunk.length === text.length) out.push(createHash("sha256").update(chunk).digest("hex"))
  }
  return out
}

export const chunkDedup = Node.global({
  name: "stack/chunk-dedup",
  version: 1,
  description: "Drop documents sharing an exact 2,048-character chunk with an earlier one.",
  inputs: { files: Node.Dataset(CodeFile) },
  outputs: { kept: Node.Dataset(CodeFile) },
  rowsPerShard: 50_000,
  params: Schema.Struct({ chunkSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 2048 }) }),
  run: (ctx) =>
    ctx.outputs.kept
      .write(
        (async function* () {
          const seen = new Set<string>()
          for await (const file of ctx.inputs.files.rows()) {
            const hashes = chunkHashes(file.text, ctx.params.chunkSize)
            const dup = hashes.some((h) => seen.has(h))
            for (const h of hashes) seen.add(h)
            if (dup) ctx.drop("duplicate-chunk", 1, { id: file.id })
            else yield file
          }
        })()
      )
      .pipe(Effect.asVoid),
})
