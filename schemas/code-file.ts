import { Schema } from "effect"

/** A source file: `id` is `repo/path` (stable through every node), `text` the file's content. */
export const CodeFile = Schema.Struct({
  id: Schema.String,
  text: Schema.String,
  lang: Schema.String,
  repo: Schema.String,
  path: Schema.String,
  ext: Schema.String,
  size: Schema.Int,
})
export type CodeFile = Schema.Schema.Type<typeof CodeFile>
