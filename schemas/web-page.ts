import { Schema } from "effect"

/** One HTML response from a WARC file, decoded to text. `id` is the WARC record id. */
export const WebPage = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  warc_record_id: Schema.String,
  warc_file: Schema.String,
  charset: Schema.String,
  html: Schema.String,
})
export type WebPage = Schema.Schema.Type<typeof WebPage>
