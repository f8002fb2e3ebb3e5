/** proof-pile-2's OpenWebMath branch end to end, and owm/warc on bad input (files and a local HTTP server). */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT, dag, dagAsync, dagAwait, nodeOf, sandbox, summary, type CliResult, type JsonSummary } from "../helpers.js"

const warcRecord = (url: string, body: Buffer, type = "text/html", id = url) => {
  const httpBlock = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`), body])
  const head = `WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:${id
    .replace(/[^a-z0-9]/gi, "")
    .padEnd(32, "0")
    .slice(0, 32)}>\r\nWARC-Target-URI: ${url}\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: ${httpBlock.length}\r\n\r\n`
  return gzipSync(Buffer.concat([Buffer.from(head), httpBlock, Buffer.from("\r\n\r\n")]))
}

describe("proof-pile-2 (OpenWebMath branch) on the embedded sample", () => {
  const box = sandbox("ppl2")
  // the whole sample, asynchronously: a worker blocked for a minute misses vitest's own calls
  let run: CliResult
  let s: JsonSummary
  beforeAll(async () => {
    run = await dagAwait(box, ["run", "proof-pile-2", "--json"])
    s = summary(run)
  }, 300_000)

  it("runs end to end with the funnel of every stage", () => {
    expect(run.code, run.stderr).toBe(0)
    expect(nodeOf(s, "owm/warc").dropped).toMatchObject({ "not-response": expect.any(Number), "binary-body": 1, "not-html": 1, "http-not-ok": 1, "truncated-warc": 1 })
    expect(nodeOf(s, "owm/prefilter").dropped["no-math-marker"]).toBe(2)
    expect(nodeOf(s, "owm/extract").dropped["too-many-tags"]).toBe(1)
    expect(nodeOf(s, "owm/langid").dropped).toEqual({ "not-en": 1, "low-confidence": 1 })
    expect(nodeOf(s, "owm/mathscore").rows.out).toBe(nodeOf(s, "owm/langid").rows.out) // every English page of the sample is math
    expect(nodeOf(s, "owm/perplexity").rows.out).toBe(nodeOf(s, "owm/mathscore").rows.out) // and fluent
    expect(nodeOf(s, "owm/filter").rows.out).toBeGreaterThanOrEqual(7)
  })

  it("a node with several outputs shows each one's rows, in `dag run` and `dag status`, never their sum", () => {
    const count = (view: string) => (JSON.parse(dag(box, ["sql", `select count(*) as n from ${view}`, "--format", "json"]).stdout) as Array<{ n: number }>)[0]!.n
    const kept = count("dedup_minhash__kept")
    const clusters = count("dedup_minhash__clusters")
    const shown = `kept ${kept}, clusters ${clusters}`
    const line = run.stdout.split("\n").find((l) => /^ {2}\S dedup\/minhash /.test(l))!
    expect(line).toContain(`→ ${shown}`)
    const status = dag(box, ["status"])
      .stdout.split("\n")
      .find((l) => l.startsWith("dedup/minhash "))!
    expect(status).toContain(shown)
    // node names are never cut, and the columns stay aligned
    const lines = run.stdout.split("\n").filter((l) => /^ {2}\S \S+\/\S+ +(cached|computed) /.test(l))
    expect(lines.some((l) => l.includes("tokens/tokenize-stack-validation "))).toBe(true)
    expect(new Set(lines.map((l) => l.search(/ (cached|computed) /))).size).toBe(1)
  })

  it("dag sql shows clean text with $…$ math from every kind of source", () => {
    const r = JSON.parse(dag(box, ["sql", "select url, text, math_sources from owm_extract", "--format", "json"]).stdout) as Array<{ url: string; text: string; math_sources: Array<string> }>
    const byUrl = (u: string) => r.find((x) => x.url.includes(u))!
    expect(byUrl("quadratic").text).toContain("$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$")
    expect(byUrl("quadratic").text).toContain("A price of \\$5 and \\$10 is not math")
    expect(byUrl("euler").text).toContain("$e^{i\\pi} + 1 = 0$")
    expect(byUrl("euler").text).not.toMatch(/Copyright|Recent posts|Archive/)
    expect(byUrl("basel").text).toContain("$$\\frac{\\pi^{2}}{6}$$")
    expect(byUrl("limits").text).toContain("$\\lim_{x\\to0}\\frac{\\sin x}{x}=1$")
    expect(byUrl("thread/42").text).toContain("$\\int_0^1 x^n dx = \\frac{1}{n+1}$")
    expect(new Set(r.flatMap((x) => x.math_sources))).toEqual(
      new Set(["delimiters", "mathml-annotation", "mathml", "latex-php", "img-src", "script-math-tex", "asciimath", "math-container", "tex-data-expr", "environment"])
    )
  })

  it("the report shows the funnel and the hostile page only as text", () => {
    const page = fs.readFileSync(path.join(box.runs, s.run, "report.html"), "utf8")
    for (const reason of ["dropped: not-response", "dropped: no-math-marker", "dropped: too-many-tags", "dropped: not-en"]) expect(page).toContain(reason)
    expect(page).toContain("Where the math came from")
    expect(page).not.toMatch(/<script>alert|<img src=x/i)
  })
})

describe("owm/warc on bad input", () => {
  let server: http.Server
  let base = ""
  const sample = fs.readFileSync(path.join(ROOT, "samples/owm/sample.warc.gz"))
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/crawl/ok.warc.gz") {
        res.writeHead(200, { "content-length": sample.length, etag: '"v1"' })
        if (req.method === "HEAD") return res.end()
        return res.end(sample)
      }
      if (req.url === "/crawl/slow.warc.gz") return // never answers: the client times out
      res.writeHead(404).end()
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  it("counts a 50 MB page, an empty file and a truncated file, and keeps the good records", () => {
    const box = sandbox("warcbad")
    const dir = path.join(box.dir, "warcs")
    fs.mkdirSync(dir)
    const good = Buffer.from(`<html><head><script src="MathJax.js"></script></head><body><p>$x$ good page</p></body></html>`)
    fs.writeFileSync(path.join(dir, "big.warc.gz"), Buffer.concat([warcRecord("https://x.test/big", Buffer.alloc(50 * 1024 * 1024, 0x61)), warcRecord("https://x.test/good", good)]))
    fs.writeFileSync(path.join(dir, "empty.warc.gz"), Buffer.alloc(0))
    const whole = warcRecord("https://x.test/cut", good)
    fs.writeFileSync(path.join(dir, "cut.warc.gz"), Buffer.concat([warcRecord("https://x.test/before", good), whole.subarray(0, whole.length - 20)]))
    const r = dag(box, ["run", "proof-pile-2", "--select", "owm/warc", "--param", `owm/warc.paths=${dir}/*.warc.gz`, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const w = nodeOf(summary(r), "owm/warc")
    expect(w.dropped).toMatchObject({ "too-large": 1, "empty-file": 1, "truncated-warc": 1 })
    expect(w.rows.out).toBe(2) // good + before
  })

  it("reads URLs from a .paths list, and reports a 404 and a timeout after retrying", async () => {
    const box = sandbox("warcurl")
    const list = path.join(box.dir, "warc.paths")
    fs.writeFileSync(list, "crawl/ok.warc.gz\ncrawl/missing.warc.gz\ncrawl/slow.warc.gz\n")
    const child = dagAsync(box, [
      "run",
      "proof-pile-2",
      "--select",
      "owm/warc",
      "--param",
      `owm/warc.paths=${list}`,
      "--param",
      `owm/warc.baseUrl=${base}/`,
      "--param",
      "owm/warc.timeoutMs=400",
      "--param",
      "owm/warc.retries=1",
      "--json",
    ])
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    const code = await new Promise<number | null>((r) => child.on("exit", r))
    expect(code).toBe(0)
    const w = nodeOf(summary({ code: 0, stdout: out, stderr: "" }), "owm/warc")
    expect(w.shards.total).toBe(3)
    expect(w.dropped["fetch-failed"]).toBe(2)
    expect(w.rows.out).toBe(12) // every decodable 200 HTML response of the sample, read over HTTP
    const record = JSON.parse(fs.readFileSync(path.join(box.runs, summary({ code: 0, stdout: out, stderr: "" }).run, "run.json"), "utf8"))
    const samples = JSON.stringify(record.nodes.find((n: { node: string }) => n.node === "owm/warc").droppedSamples["fetch-failed"])
    expect(samples).toContain("HTTP 404")
    expect(samples).toContain("timeout")
  }, 60_000)
})
