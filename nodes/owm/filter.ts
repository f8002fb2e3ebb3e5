/**
 * owm/filter: OpenWebMath's manual filters (step 7 in docs/proof-pile-2.md) on extracted documents: banned URL
 * substrings, lines with more than one `newcommand` (macro dumps), too little text, and too many
 * accented characters, and a math score under 0.17 (when owm/mathscore ran upstream).
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { WebDocument } from "../../schemas/web-document.js"

const ACCENTED = /[À-ÖØ-öø-ÿĀ-ſ]/gu

/** Share of characters that are accented Latin letters (a proxy for non-English Latin text). */
export const accentedShare = (text: string): number => {
  if (text.length === 0) return 0
  return (text.match(ACCENTED)?.length ?? 0) / text.length
}

export const hasNewcommandDump = (text: string): boolean => text.split("\n").some((line) => (line.match(/newcommand/g)?.length ?? 0) > 1)

export const filter = Node.map({
  name: "owm/filter",
  // cheap per row, but on the main thread it would be the serial ceiling of a large run
  worker: true,
  version: 1,
  description: "Manual filters: banned URL substrings, newcommand dumps, short text, accented share, math score.",
  input: WebDocument,
  output: WebDocument,
  params: Schema.Struct({
    minChars: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 100 }),
    maxAccentedShare: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.015 }),
    bannedUrlSubstrings: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    minMathScore: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.17 }),
  }),
  report: [Cell.samples("Kept documents"), Cell.histogram("Text length of kept documents", "SELECT length(text) AS chars FROM self", { bins: 20, xLabel: "characters" })],
  row: (doc, p) =>
    p.bannedUrlSubstrings.some((s) => doc.url.includes(s))
      ? Node.Drop("banned-url")
      : hasNewcommandDump(doc.text)
        ? Node.Drop("newcommand-lines")
        : doc.text.length < p.minChars
          ? Node.Drop("too-short")
          : accentedShare(doc.text) > p.maxAccentedShare
            ? Node.Drop("accented")
            : doc.math_score !== undefined && doc.math_score !== null && doc.math_score < p.minMathScore
              ? Node.Drop("math-score")
              : Node.Keep(doc),
})
