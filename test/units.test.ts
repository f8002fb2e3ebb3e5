/**
 * Bounded source units: large inputs cut at record boundaries (nothing lost, nothing read twice),
 * per-range caching, the memory budget reaching DuckDB, and inputs that are not regular files.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { gunzipSync, gzipSync } from "node:zlib"
import { SHARD_BYTES_ENV } from "../engine/resources/memory.js"
import { connect, sqlString } from "../engine/store/duckdb.js"
import { jsonLines } from "../nodes/jsonl.js"
import { cutJsonl } from "../nodes/units/jsonl.js"
import { cutParquet } from "../nodes/units/parquet.js"
import { cutWarc } from "../nodes/units/warc.js"
import type { SourceUnit } from "../engine/node.js"
import { dag, dagAsync, nodeOf, sandbox, summary, tempDir } from "./helpers.js"

const warcRecord = (i: number, body: string): Buffer => {
  const http = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n${body}`
  const head = `WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://example.org/${i}\r\nWARC-Record-ID: <urn:uuid:${i}>\r\nContent-Length: ${Buffer.byteLength(http)}\r\n\r\n`
  return Buffer.from(`${head}${http}\r\n\r\n`)
}
const page = (i: number) => `<html><body><p>Page ${i}: $x^${i}$ ${"filler text ".repeat(40 + (i % 13) * 9)}</p></body></html>`
const unitOf = (file: string): SourceUnit => ({ id: path.basename(file), fingerprint: "whole", file })
const bytesOf = (u: SourceUnit) => {
  const buf = fs.readFileSync(u.file as string)
  return buf.subarray((u.start as number) ?? 0, (u.end as number) ?? buf.length)
}
const urls = (text: string) => [...text.matchAll(/WARC-Target-URI: (\S+)/g)].map((m) => m[1]!)
const expectContiguous = (units: ReadonlyArray<SourceUnit>, size: number) => {
  expect(units[0]!.start).toBe(0)
  expect(units.at(-1)!.end).toBe(size)
  for (let i = 1; i < units.length; i++) expect(units[i]!.start).toBe(units[i - 1]!.end)
}

describe("bounded source units", () => {
  let dir: string
  beforeEach(() => {
    dir = tempDir("units")
    process.env[SHARD_BYTES_ENV] = "4096"
  })
  afterEach(() => {
    delete process.env[SHARD_BYTES_ENV]
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it("cuts a WARC of many gzip members only between members: every record once", () => {
    process.env[SHARD_BYTES_ENV] = "1024"
    const file = path.join(dir, "many.warc.gz")
    fs.writeFileSync(file, Buffer.concat(Array.from({ length: 60 }, (_, i) => gzipSync(warcRecord(i, page(i))))))
    const units = cutWarc(unitOf(file))
    expect(units.length).toBeGreaterThan(5)
    expectContiguous(units, fs.statSync(file).size)
    const seen = units.flatMap((u) => {
      const raw = bytesOf(u)
      expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b])
      const text = gunzipSync(raw).toString("utf8")
      expect(text.startsWith("WARC/1.0")).toBe(true)
      return urls(text)
    })
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => `https://example.org/${i}`))
    // cut ids name the file and range; fingerprints differ per range
    expect(units[1]!.id).toMatch(/^many\.warc\.gz#bytes=\d+-\d+$/)
    expect(new Set(units.map((u) => u.fingerprint)).size).toBe(units.length)
  })

  it("cuts a plain WARC at record starts, even when a body contains a WARC/1.0 line", () => {
    const file = path.join(dir, "plain.warc")
    const tricky = (i: number) => (i % 7 === 3 ? `${page(i)}\r\n\r\nWARC/1.0\r\nnot a record` : page(i))
    fs.writeFileSync(file, Buffer.concat(Array.from({ length: 40 }, (_, i) => warcRecord(i, tricky(i)))))
    const units = cutWarc(unitOf(file))
    expect(units.length).toBeGreaterThan(3)
    expectContiguous(units, fs.statSync(file).size)
    const seen = units.flatMap((u) => {
      const text = bytesOf(u).toString("utf8")
      expect(text.startsWith("WARC/1.0\r\nWARC-Type: response")).toBe(true)
      return urls(text)
    })
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `https://example.org/${i}`))
  })

  it("cuts JSON Lines after newlines; a last line without newline and line numbers survive", async () => {
    const file = path.join(dir, "docs.jsonl")
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `d${i}`, text: "word ".repeat(5 + (i % 17)) }))
    fs.writeFileSync(file, lines.join("\n")) // no final newline
    const units = cutJsonl(unitOf(file))
    expect(units.length).toBeGreaterThan(3)
    expectContiguous(units, fs.statSync(file).size)
    const read: Array<{ index: number; id: unknown }> = []
    for (const u of units) {
      expect(u.fileLines).toBe(200)
      for await (const { index, row } of jsonLines(file, () => expect.fail("no bad lines"), { start: u.start as number, end: u.end as number, firstLine: u.firstLine as number }))
        read.push({ index, id: row.id })
    }
    expect(read).toEqual(lines.map((_, i) => ({ index: i, id: `d${i}` })))
  })

  it("cuts Parquet between row groups: every row once", async () => {
    const file = path.join(dir, "rows.parquet")
    const conn = await connect()
    try {
      process.env[SHARD_BYTES_ENV] = String(200 * 1024)
      await conn.run(`COPY (SELECT i AS id, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS text FROM range(20000) t(i)) TO ${sqlString(file)} (FORMAT parquet, ROW_GROUP_SIZE 2048)`)
      const units = await cutParquet(unitOf(file))
      expect(units.length).toBeGreaterThan(3)
      expect(units[0]!.rowStart).toBe(0)
      expect(units.at(-1)!.rowEnd).toBe(20000)
      let ids: Array<number> = []
      for (const u of units) {
        expect((u.rowStart as number) % 2048).toBe(0) // a row group's first row
        const r = await conn.runAndReadAll(
          `SELECT id FROM read_parquet(${sqlString(file)}, file_row_number = true) WHERE file_row_number >= ${u.rowStart} AND file_row_number < ${u.rowEnd} ORDER BY file_row_number`
        )
        ids = ids.concat(r.getRowsJS().map((row) => Number(row[0])))
      }
      expect(ids).toEqual(Array.from({ length: 20000 }, (_, i) => i))
    } finally {
      conn.closeSync()
    }
  })
})

describe("bounded shards in a run", () => {
  it("a small shardBytes gives the same OpenWebMath rows as one shard per file, and an edit recomputes one shard", () => {
    const box = sandbox("units-run")
    const file = path.join(box.dir, "crawl.warc")
    const records = Array.from({ length: 48 }, (_, i) => warcRecord(i, page(i).replace("<body>", `<body><script src="MathJax.js"></script>`)))
    fs.writeFileSync(file, Buffer.concat(records))
    const select = (extra: ReadonlyArray<string>) => ["run", "proof-pile-2", "--select", "owm/prefilter", "--param", `owm/warc.paths=${file}`, "--json", ...extra]
    const whole = summary(dag(box, select([])))
    expect(nodeOf(whole, "owm/warc").shards.total).toBe(1)
    const rows = () => dag(box, ["sql", "SELECT url, html FROM owm_prefilter ORDER BY url", "--format", "json"]).stdout
    const wholeRows = rows()
    expect(JSON.parse(wholeRows)).toHaveLength(48)

    const cut = summary(dag(box, select(["--shard-bytes", "8KB"])))
    const shards = nodeOf(cut, "owm/warc").shards.total
    expect(shards).toBeGreaterThan(4)
    expect(rows()).toEqual(wholeRows)

    // same length, one byte changed inside the last record's body: only its range recomputes
    const buf = fs.readFileSync(file)
    const at = buf.lastIndexOf("filler")
    buf[at] = "F".charCodeAt(0)
    fs.writeFileSync(file, buf)
    const again = summary(dag(box, select(["--shard-bytes", "8KB"])))
    expect(nodeOf(again, "owm/warc").shards).toMatchObject({ total: shards, computed: 1, cached: shards - 1 })
  }, 120_000)

  it("the memory budget reaches DuckDB as its memory_limit", () => {
    const box = sandbox("units-budget")
    expect(dag(box, ["run", "demo"]).code).toBe(0) // dag sql reads a run's views
    const limit = (memory: string) => {
      const r = dag({ ...box, env: { ...box.env, DAG_MEMORY: memory } }, ["sql", "SELECT current_setting('memory_limit') AS m", "--format", "json"])
      expect(r.code, r.stderr).toBe(0)
      const m = /([\d.]+) (MiB|GiB)/.exec(JSON.parse(r.stdout)[0].m)!
      return Number(m[1]) * (m[2] === "GiB" ? 1024 : 1)
    }
    const small = limit("600MB")
    const large = limit("1200MB")
    expect(small).toBeLessThanOrEqual(600)
    expect(large / small).toBeCloseTo(2, 1)
    const bad = dag(box, ["run", "demo", "--memory", "1MB"])
    expect(bad.code).toBe(2)
    expect(bad.stderr + bad.stdout).toMatch(/memory/)
  }, 60_000)
})

describe("inputs that are not regular files", () => {
  it("a FIFO and /dev/zero fail at once with the path named, exit 2", () => {
    const box = sandbox("units-fifo")
    const fifo = path.join(box.dir, "pipe.warc")
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0)
    for (const input of [fifo, "/dev/zero"]) {
      const t0 = Date.now()
      const r = dag(box, ["run", "proof-pile-2", "--select", "owm/warc", "--param", `owm/warc.paths=${input}`])
      expect(Date.now() - t0).toBeLessThan(30_000)
      expect(r.code).toBe(2)
      expect(r.stdout + r.stderr).toContain(input)
      expect(r.stdout + r.stderr).toMatch(/not a regular file/)
    }
  }, 90_000)

  it("SIGTERM stops a run with worker threads busy within 2 s; committed shards are kept", async () => {
    const box = sandbox("units-sigterm")
    const file = path.join(box.dir, "big.warc")
    fs.writeFileSync(file, Buffer.concat(Array.from({ length: 3000 }, (_, i) => warcRecord(i, page(i)))))
    const child = dagAsync(box, ["run", "proof-pile-2", "--select", "owm/extract", "--param", `owm/warc.paths=${file}`, "--shard-bytes", "64KB"])
    const events = () => {
      const runs = fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []
      const f = runs[0] ? path.join(box.runs, runs[0], "events.jsonl") : ""
      return f && fs.existsSync(f) ? fs.readFileSync(f, "utf8") : ""
    }
    const deadline = Date.now() + 60_000
    while (!events().includes('"node":"owm/extract"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(events()).toContain('"node":"owm/extract"')
    const t0 = Date.now()
    child.kill("SIGTERM")
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 128 + 15 : null))))
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(code).not.toBe(0)
    const resumed = summary(dag(box, ["run", "proof-pile-2", "--select", "owm/warc", "--param", `owm/warc.paths=${file}`, "--shard-bytes", "64KB", "--json"]))
    expect(nodeOf(resumed, "owm/warc").shards.cached).toBe(nodeOf(resumed, "owm/warc").shards.total)
  }, 120_000)
})
