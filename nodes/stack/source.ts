/**
 * Code files from local Parquet or JSON Lines files, read through DuckDB and streamed, one shard per
 * file. Two layouts: The Stack's (`content`, `lang`, `max_stars_repo_path`, `max_stars_repo_name`,
 * `ext`, `size`) and AlgebraicStack's GitHub records (`text`, `lang`, `repo`, `path`). A Parquet file
 * with neither fails with the file and the missing columns named; in JSON Lines, each bad line
 * (invalid UTF-8, invalid JSON, missing fields) is counted and the rest of the file is read.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as Node from "../../engine/node.js"
import { connect, sqlString } from "../../engine/store/duckdb.js"
import { CodeFile, type CodeFile as CodeFileRow } from "../../schemas/code-file.js"
import { fileIdOf, lineRangeOf, listFiles, localFile } from "../files.js"
import { cutJsonl } from "../units/jsonl.js"
import { cutParquet } from "../units/parquet.js"
import { jsonLines, type LineRange } from "../jsonl.js"

export const STACK_COLUMNS = ["content", "lang", "max_stars_repo_path", "max_stars_repo_name", "ext", "size"] as const
export const GITHUB_COLUMNS = ["text", "lang", "repo", "path"] as const

const STACK_SELECT = "SELECT content, lang, max_stars_repo_path AS path, max_stars_repo_name AS repo, ext, CAST(size AS BIGINT) AS size"
const GITHUB_SELECT = "SELECT text AS content, lang, path, repo, regexp_extract(path, '\\.([^./]+)$', 1) AS ext, CAST(strlen(text) AS BIGINT) AS size"

const reader = (file: string) => (/\.jsonl?(\.gz)?$/i.test(file) ? `read_json(${sqlString(file)}, format = 'newline_delimited')` : `read_parquet(${sqlString(file)})`)

export const codeSource = (name: string, defaultPaths: string, description: string) =>
  Node.source({
    name,
    version: 1,
    description,
    params: Schema.Struct({ paths: Schema.optionalWith(Schema.String, { default: () => defaultPaths }) }),
    output: CodeFile,
    units: (p) => listFiles(name, p.paths, (u) => (/\.jsonl?$/i.test(u.file as string) ? cutJsonl(u) : cutParquet(u))),
    worker: true,
    read: async function* (unit, _p, ctx) {
      const file = await localFile(unit)
      if (fs.statSync(file).size === 0) {
        // upstream divides by zero on empty inputs; here an empty file is counted and skipped
        ctx.drop("empty-file", { file: fileIdOf(unit) })
        return
      }
      if (/\.jsonl?(\.gz)?$/i.test(file)) {
        // JSON Lines are read here, line by line, so one bad line is counted instead of failing the file.
        yield* readJsonLines(file, ctx, lineRangeOf(unit))
        return
      }
      const conn = await connect()
      try {
        const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${reader(file)}`).catch((e: Error) => {
          throw new Error(`cannot read it as ${/\.jsonl?/.test(file) ? "JSON Lines" : "Parquet"} (${e.message.split("\n")[0]})`)
        })
        const have = new Set(described.getRowObjectsJS().map((r) => String(r.column_name)))
        const stackMissing = STACK_COLUMNS.filter((c) => !have.has(c))
        const githubMissing = GITHUB_COLUMNS.filter((c) => !have.has(c))
        if (stackMissing.length && githubMissing.length) {
          const [layout, missing] = have.has("content") ? ["The Stack", stackMissing] : ["GitHub records", githubMissing]
          throw new Error(
            `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} for the layout of ${layout} (The Stack: ${STACK_COLUMNS.join(", ")}; GitHub records: ${GITHUB_COLUMNS.join(", ")})`
          )
        }
        // a cut unit reads its row groups only (file_row_number filters prune the others)
        const rows = typeof unit.rowStart === "number" && typeof unit.rowEnd === "number" ? ` WHERE file_row_number >= ${unit.rowStart} AND file_row_number < ${unit.rowEnd}` : ""
        const from = rows ? `read_parquet(${sqlString(file)}, file_row_number = true)${rows}` : reader(file)
        const result = await conn.stream(`${stackMissing.length === 0 ? STACK_SELECT : GITHUB_SELECT} FROM ${from}`)
        for await (const rows of result.yieldRowObjectJs()) {
          for (const r of rows) {
            if (typeof r.content !== "string") {
              ctx.drop("no-content", { repo: r.repo, path: r.path })
              continue
            }
            // a 0-byte file would pass the filters (density 0); the reference code fails on it, so the corpus cannot hold it
            if (r.content.trim().length === 0) {
              ctx.drop("empty", { repo: r.repo, path: r.path })
              continue
            }
            yield {
              id: `${r.repo}/${r.path}`,
              text: r.content,
              lang: String(r.lang ?? ""),
              repo: String(r.repo ?? ""),
              path: String(r.path ?? ""),
              ext: String(r.ext ?? ""),
              size: Number(r.size ?? 0),
            }
          }
        }
      } finally {
        conn.closeSync()
      }
    },
  })

async function* readJsonLines(file: string, ctx: { drop: (reason: string, sample?: unknown) => void }, range: LineRange | undefined): AsyncGenerator<CodeFileRow> {
  for await (const { index, row: r } of jsonLines(file, ctx.drop, range)) {
    const stack = typeof r.content === "string"
    const content = stack ? r.content : r.text
    const filePath = String((stack ? r.max_stars_repo_path : r.path) ?? "")
    const repo = String((stack ? r.max_stars_repo_name : r.repo) ?? "")
    if (typeof content !== "string" || typeof r.lang !== "string" || !filePath) {
      ctx.drop("missing-fields", { line: index + 1, keys: Object.keys(r).join(",") })
      continue
    }
    const ext = typeof r.ext === "string" ? r.ext : (/\.([^./]+)$/.exec(filePath)?.[1] ?? "")
    yield { id: `${repo}/${filePath}`, text: content, lang: r.lang, repo, path: filePath, ext, size: typeof r.size === "number" ? r.size : Buffer.byteLength(content) }
  }
}

export const stackSource = codeSource("stack/source", "samples/stack/the-stack-*.parquet", "The Stack rows (Parquet or JSONL) → code files.")
export const githubSource = codeSource("stack/github-source", "samples/stack/github-*.jsonl", "GitHub formal-math records (JSONL or Parquet) → code files.")
