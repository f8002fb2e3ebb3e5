import { Schema } from "effect"

/** A document of plain text. `id` is stable from the source through every node (lineage). */
export const TextDoc = Schema.Struct({
  id: Schema.String,
  source: Schema.String,
  text: Schema.String,
})
export type TextDoc = Schema.Schema.Type<typeof TextDoc>
