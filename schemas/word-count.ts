import { Schema } from "effect"

/** How often `word` occurs in document `id`. */
export const WordCount = Schema.Struct({
  id: Schema.String,
  word: Schema.String,
  count: Schema.Int,
})
export type WordCount = Schema.Schema.Type<typeof WordCount>

/** Corpus-wide statistics of one word. */
export const WordStat = Schema.Struct({
  word: Schema.String,
  count: Schema.Int,
  docs: Schema.Int,
})
export type WordStat = Schema.Schema.Type<typeof WordStat>
