/** owm/extract: HTML → text with math as LaTeX (nodes/owm/extract/extract.ts), on worker threads. */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { WebDocument } from "../../schemas/web-document.js"
import { WebPage } from "../../schemas/web-page.js"
import { owmConfig } from "./extract/config.js"
import { extract as extractPage } from "./extract/extract.js"

const Boilerplate = Schema.Struct({
  ratioThreshold: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.18 }),
  absoluteThreshold: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 10 }),
  endThreshold: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 15 }),
})

export const extract = Node.map({
  name: "owm/extract",
  version: 1,
  description: "HTML → text with math kept as $…$ / $$…$$ LaTeX; boilerplate, banned selectors and link clusters removed.",
  input: WebPage,
  output: WebDocument,
  worker: true,
  params: Schema.Struct({
    boilerplate: Schema.optionalWith(Boilerplate, { default: () => ({ ratioThreshold: 0.18, absoluteThreshold: 10, endThreshold: 15 }) }),
    maxLinks: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 3000 }),
    maxDepth: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1500 }),
    markdownHeadings: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  }),
  report: [
    Cell.bar("Where the math came from", "SELECT src AS source, count(*)::BIGINT AS documents FROM (SELECT unnest(math_sources) AS src FROM self) GROUP BY 1 ORDER BY 2 DESC", {
      x: "source",
      y: "documents",
    }),
    Cell.histogram("Extracted text length", "SELECT length(text) AS chars FROM self", { bins: 20, xLabel: "characters" }),
    Cell.table("Sample documents (math as raw LaTeX)", "SELECT url, substr(text, 1, 400) AS text FROM self WHERE math_found LIMIT 3"),
  ],
  externals: () => ["nodes/owm/data/boilerplate_words.txt", "nodes/owm/data/banned_selectors.txt"],
  row: (page, p) => {
    const r = extractPage(page.html, { ...owmConfig(), boilerplate: p.boilerplate, maxLinks: p.maxLinks, markdownHeadings: p.markdownHeadings, maxDepth: p.maxDepth })
    if (!r.ok) return Node.Drop(r.reason)
    if (r.text.trim().length === 0) return Node.Drop("empty-text")
    return Node.Keep({ id: page.id, url: page.url, warc_record_id: page.warc_record_id, title: r.title, text: r.text, math_found: r.mathFound, math_sources: r.mathSources })
  },
})
