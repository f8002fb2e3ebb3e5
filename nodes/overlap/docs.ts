/** docs: any corpus as JSON Lines with `id` and `text` (or `content`), local or hf://, for the overlap pipeline. */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as readline from "node:readline"
import { createGunzip } from "node:zlib"
import * as Node from "../../engine/node.js"
import { listFiles, localFile } from "../files.js"

export const TextRow = Schema.Struct({ id: Schema.String, text: Schema.String })

export const docs = Node.source({
  name: "docs",
  version: 1,
  description: "JSON Lines documents ({id, text}) to check for test-set overlap.",
  params: Schema.Struct({ paths: Schema.optionalWith(Schema.String, { default: () => "samples/arxiv/*.jsonl" }) }),
  output: TextRow,
  units: (p) => listFiles("docs", p.paths),
  read: async function* (unit, _p, ctx) {
    const file = await localFile(unit)
    const raw = fs.createReadStream(file)
    let i = 0
    for await (const line of readline.createInterface({ input: file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity })) {
      i++
      if (!line.trim()) continue
      let row: Record<string, unknown>
      try {
        row = JSON.parse(line) as Record<string, unknown>
      } catch {
        ctx.drop("invalid-json", { line: i })
        continue
      }
      const text = typeof row.text === "string" ? row.text : typeof row.content === "string" ? row.content : undefined
      if (text === undefined) {
        ctx.drop("no-text", { line: i })
        continue
      }
      const meta = row.meta as { arxiv_id?: unknown } | undefined
      const id = typeof row.id === "string" || typeof row.id === "number" ? String(row.id) : typeof meta?.arxiv_id === "string" ? meta.arxiv_id : `${unit.id}#${i}`
      yield { id, text }
    }
  },
})
