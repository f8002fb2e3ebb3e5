/**
 * arxiv/load: RedPajama's arXiv JSON Lines (`{"text", "meta": {"arxiv_id", …}}`, plain or gzip), one
 * shard per file. Per file, the first 99 % of lines are train and the rest is halved into validation
 * then test (Proof-Pile-2's arXiv split). Lines that are not JSON or have no text are counted.
 */
import { Schema } from "effect"
import * as Node from "../../engine/node.js"
import * as Cell from "../../engine/report/cell.js"
import { ArxivDoc } from "../../schemas/arxiv-doc.js"
import { fileIdOf, lineRangeOf, listFiles, localFile } from "../files.js"
import { countLines, jsonLines } from "../jsonl.js"
import { cutJsonl } from "../units/jsonl.js"

/** Split of line i of n: the first ⌊0.99 n⌋ train, then ⌊rest / 2⌋ validation, the remainder test. */
export const arxivSplit = (i: number, n: number, trainShare = 0.99): "train" | "validation" | "test" => {
  const trainEnd = Math.floor(trainShare * n)
  const validationEnd = trainEnd + Math.floor((n - trainEnd) / 2)
  return i < trainEnd ? "train" : i < validationEnd ? "validation" : "test"
}

export const arxivLoad = Node.source({
  name: "arxiv/load",
  version: 1,
  description: "RedPajama arXiv JSONL → papers, split per file 99 % / 0.5 % / 0.5 %.",
  params: Schema.Struct({
    paths: Schema.optionalWith(Schema.String, { default: () => "samples/arxiv/*.jsonl" }),
    trainShare: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 1)), { default: () => 0.99 }),
  }),
  output: ArxivDoc,
  report: [Cell.table("Papers per split", "SELECT split, count(*)::BIGINT AS papers, sum(strlen(text))::BIGINT AS bytes FROM self GROUP BY 1 ORDER BY 1"), Cell.samples("Papers")],
  units: (p) => listFiles("arxiv/load", p.paths, cutJsonl),
  worker: true,
  read: async function* (unit, p, ctx) {
    const file = await localFile(unit)
    const fileId = fileIdOf(unit)
    // the split of a line depends on the whole file's length, which a cut unit carries
    const n = typeof unit.fileLines === "number" ? unit.fileLines : await countLines(file)
    for await (const { index: i, row: doc } of jsonLines(file, (reason, sample) => ctx.drop(reason, { file: fileId, ...(sample as object) }), lineRangeOf(unit))) {
      const meta = doc.meta as { arxiv_id?: unknown } | undefined
      if (typeof doc.text !== "string") {
        ctx.drop("no-text", { file: fileId, line: i + 1 })
        continue
      }
      if (doc.text.trim().length === 0) {
        ctx.drop("empty", { file: fileId, line: i + 1 })
        continue
      }
      const id = typeof meta?.arxiv_id === "string" ? meta.arxiv_id : `${fileId}#${i + 1}`
      yield { id, text: doc.text, split: arxivSplit(i, n, p.trainShare), file: fileId, line: i + 1 }
    }
  },
})
