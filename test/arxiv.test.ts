import * as fs from "node:fs"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { arxivSplit } from "../nodes/arxiv/load.js"
import { dag, nodeOf, sandbox, summary } from "./helpers.js"

describe("arxiv/load", () => {
  it("splits each file 99 % train, then half validation, half test", () => {
    const count = (n: number) => {
      const c = { train: 0, validation: 0, test: 0 }
      for (let i = 0; i < n; i++) c[arxivSplit(i, n)]++
      return c
    }
    expect(count(1000)).toEqual({ train: 990, validation: 5, test: 5 })
    expect(count(6)).toEqual({ train: 5, validation: 0, test: 1 })
    expect(count(1)).toEqual({ train: 0, validation: 0, test: 1 })
    expect(arxivSplit(989, 1000)).toBe("train")
    expect(arxivSplit(990, 1000)).toBe("validation")
  })
  it("reads plain and gzip JSONL, keeps arXiv ids, and counts bad lines", () => {
    const box = sandbox("arxiv")
    const dir = path.join(box.dir, "arxiv")
    fs.mkdirSync(dir)
    const good = (id: string) => JSON.stringify({ text: `\\section{A} paper ${id}`, meta: { arxiv_id: id } })
    fs.writeFileSync(path.join(dir, "a.jsonl"), [good("1"), "{not json", JSON.stringify({ meta: {} }), JSON.stringify({ text: " \n ", meta: { arxiv_id: "9" } }), good("2")].join("\n") + "\n")
    fs.writeFileSync(path.join(dir, "b.jsonl.gz"), gzipSync([good("3"), good("4")].join("\n") + "\n"))
    const s = summary(dag(box, ["run", "proof-pile-2", "--select", "arxiv/load", "--param", `arxiv/load.paths=${dir}/*.jsonl,${dir}/*.jsonl.gz`, "--json"]))
    expect(nodeOf(s, "arxiv/load")).toMatchObject({ shards: { total: 2 }, rows: { out: 4 }, dropped: { "invalid-json": 1, "no-text": 1, empty: 1 } })
    const ids = JSON.parse(dag(box, ["sql", "select id from arxiv_load order by id", "--format", "json"]).stdout) as Array<{ id: string }>
    expect(ids.map((r) => r.id)).toEqual(["1", "2", "3", "4"])
  })
})
