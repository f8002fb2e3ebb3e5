import { Schema } from "effect"

/** An arXiv paper's LaTeX source as RedPajama ships it, with the split it belongs to. */
export const ArxivDoc = Schema.Struct({
  id: Schema.String,
  text: Schema.String,
  split: Schema.Literal("train", "validation", "test"),
  file: Schema.String,
  line: Schema.Int,
})
export type ArxivDoc = Schema.Schema.Type<typeof ArxivDoc>
