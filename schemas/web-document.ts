import { Schema } from "effect"

/** Extracted page text with math as `$…$` / `$$…$$` LaTeX; `id` stays the WARC record id. */
export const WebDocument = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  warc_record_id: Schema.String,
  title: Schema.String,
  text: Schema.String,
  math_found: Schema.Boolean,
  /** which extraction rules contributed math (mathml-annotation, img-src, delimiters, …) */
  math_sources: Schema.Array(Schema.String),
  /** set by owm/langid: the most probable language and its probability */
  lang: Schema.optional(Schema.NullOr(Schema.String)),
  lang_score: Schema.optional(Schema.NullOr(Schema.Number)),
  /** set by owm/mathscore: P(math) */
  math_score: Schema.optional(Schema.NullOr(Schema.Number)),
  /** set by owm/perplexity */
  perplexity: Schema.optional(Schema.NullOr(Schema.Number)),
})
export type WebDocument = Schema.Schema.Type<typeof WebDocument>
