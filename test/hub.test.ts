/**
 * Hub loading against a local HTTP server on 127.0.0.1 that implements the routes @huggingface/hub
 * uses (tree listing, resolve with Range + Content-Range + ETag, EntryNotFound), serving a real
 * Parquet file.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { globToRegExp, parseHubRef } from "../nodes/hub/files.js"
import { ROOT, dagAwait, nodeOf, sandbox, summary, type Sandbox } from "./helpers.js"

const PARQUET = fs.readFileSync(path.join(ROOT, "samples/stack/the-stack-sample.parquet"))
const TOKEN = "hf_secret_test_token_42"
const files: Record<string, Buffer> = { "data/python/train-00000.parquet": PARQUET, "README.md": Buffer.from("# stack-mini\n") }

describe("hf:// entries", () => {
  it("parse repository, revision and glob", () => {
    expect(parseHubRef("hf://datasets/bigcode/the-stack-dedup@v1.2/data/python/*.parquet")).toEqual({ repo: "bigcode/the-stack-dedup", revision: "v1.2", pattern: "data/python/*.parquet" })
    expect(parseHubRef("hf://datasets/a/b/x.jsonl")).toEqual({ repo: "a/b", revision: "main", pattern: "x.jsonl" })
    expect(globToRegExp("data/**/*.parquet").test("data/python/train-0.parquet")).toBe(true)
    expect(globToRegExp("data/*.parquet").test("data/python/train-0.parquet")).toBe(false)
  })
})

describe("hub source against a local Hub", () => {
  let server: http.Server
  let base = ""
  const hits: Array<{ method: string; url: string; auth: string | undefined }> = []
  let flaky = 0
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x")
      hits.push({ method: req.method ?? "", url: url.pathname, auth: req.headers.authorization })
      const tree = /^\/api\/datasets\/team\/([^/]+)\/tree\/([^/]+)$/.exec(url.pathname)
      if (tree) {
        if (tree[1] === "private" && req.headers.authorization !== `Bearer ${TOKEN}-other`) return res.writeHead(401).end('{"error":"unauthorized"}')
        if (tree[1] === "flaky" && flaky++ === 0) return res.writeHead(500).end('{"error":"try again"}')
        if (tree[1] !== "stack-mini" && tree[1] !== "flaky") return res.writeHead(404, { "X-Error-Code": "RepoNotFound" }).end('{"error":"not found"}')
        res.writeHead(200, { "content-type": "application/json" })
        return res.end(JSON.stringify(Object.entries(files).map(([p, b]) => ({ type: "file", path: p, size: b.length, oid: `oid-${b.length}` }))))
      }
      const resolve = /^\/datasets\/team\/[^/]+\/resolve\/[^/]+\/(.+)$/.exec(url.pathname)
      const body = resolve ? files[decodeURIComponent(resolve[1]!)] : undefined
      if (!body) return res.writeHead(404, { "X-Error-Code": "EntryNotFound" }).end()
      const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "")
      if (range) {
        const start = Number(range[1])
        const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1
        res.writeHead(206, { "Content-Range": `bytes ${start}-${end}/${body.length}`, "Content-Length": end - start + 1, ETag: `"${body.length}"`, "Accept-Ranges": "bytes" })
        return res.end(body.subarray(start, end + 1))
      }
      res.writeHead(200, { "Content-Length": body.length, ETag: `"${body.length}"` })
      res.end(body)
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  const withHub = (box: Sandbox): Sandbox => ({ ...box, env: { ...box.env, DAG_HUB_URL: base, HF_TOKEN: TOKEN } })

  it("lists, downloads into the cache, reads Parquet through DuckDB, and reuses the download", async () => {
    const box = withHub(sandbox("hub"))
    const args = ["run", "proof-pile-2", "--select", "stack/filter", "--param", "stack/source.paths=hf://datasets/team/stack-mini@main/data/**/*.parquet", "--json"]
    const r = await dagAwait(box, args)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const s = summary(r)
    expect(nodeOf(s, "stack/source").rows.out).toBe(37)
    const downloads = hits.filter((h) => h.url.includes("/resolve/") && h.url.endsWith(".parquet")).length
    expect(downloads).toBeGreaterThan(0)
    expect(hits.some((h) => h.url.endsWith("README.md"))).toBe(false) // the glob picked only the data
    expect(hits.every((h) => h.auth === `Bearer ${TOKEN}`)).toBe(true)
    // the second run lists again (cheap) but downloads nothing: the key has the revision and content id
    const again = summary(await dagAwait(box, args))
    expect(nodeOf(again, "stack/source").status).toBe("cached")
    expect(hits.filter((h) => h.url.includes("/resolve/") && h.url.endsWith(".parquet")).length).toBe(downloads)
    // the token is never written anywhere
    const written = [box.runs, box.store].flatMap((d) => fs.readdirSync(d, { recursive: true }).map((f) => path.join(d, String(f)))).filter((f) => fs.statSync(f).isFile() && !f.endsWith(".parquet"))
    for (const f of written) expect(fs.readFileSync(f, "utf8").includes(TOKEN), f).toBe(false)
  })

  it("retries a 500, and reports 401 and 404 clearly", async () => {
    const box = withHub(sandbox("hubbad"))
    const run = (repo: string) => dagAwait(box, ["run", "proof-pile-2", "--select", "stack/source", "--param", `stack/source.paths=hf://datasets/team/${repo}/data/**/*.parquet`, "--json"])
    const flakyRun = await run("flaky")
    expect(flakyRun.code, flakyRun.stdout).toBe(0)
    expect(nodeOf(summary(flakyRun), "stack/source").rows.out).toBe(37)
    const denied = await run("private")
    expect(denied.code).toBe(1)
    expect(denied.stdout).toMatch(/answered 401 \(unauthorised\): set HF_TOKEN/)
    const missing = await run("nope")
    expect(missing.code).toBe(1)
    expect(missing.stdout).toMatch(/not found on http:\/\/127\.0\.0\.1:\d+ \(check the repository, revision and path\)/)
  })
})
