import { Schema } from "effect"

/** A tokenized document: Llama-2 ids, the subset it belongs to and its split. */
export const TokenDoc = Schema.Struct({
  id: Schema.String,
  subset: Schema.String,
  split: Schema.String,
  tokens: Schema.Array(Schema.Int),
  n_tokens: Schema.Int,
})
export type TokenDoc = Schema.Schema.Type<typeof TokenDoc>
