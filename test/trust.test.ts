/** What the store promises under concurrent use: gc never races a live run; bad gc arguments are refused. */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { gunzipSync } from "node:zlib"
import { ROOT, dag, dagAsync, demoInputs, nodeOf, sandbox, summary, waitFor } from "./helpers.js"

describe("gc and live runs", () => {
  it("gc (and gc --keep 1) refuse while a run holds the store; after it ends gc runs and every view still reads", async () => {
    const box = sandbox("gc-live")
    const paths = demoInputs(box, 80)
    const child = dagAsync(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"])
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    const started = await waitFor(() => fs.existsSync(path.join(box.store, "leases")) && fs.readdirSync(path.join(box.store, "leases")).length > 0, 60_000)
    expect(started).toBe(true)
    for (const args of [["gc"], ["gc", "--keep", "1"]]) {
      const r = dag(box, args)
      expect(r.code, r.stdout + r.stderr).toBe(2)
      expect(r.stderr).toMatch(/is using this store; gc would delete what it is writing/)
    }
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(0)
    expect(fs.readdirSync(path.join(box.store, "leases"))).toEqual([]) // released at exit
    const run = summary({ code: 0, stdout: out, stderr: "" })
    expect(dag(box, ["gc", "--keep", "1"]).code).toBe(0)
    const rows = dag(box, ["sql", "select count(*) AS n from demo_words", "--format", "json"])
    expect(rows.code, rows.stderr).toBe(0)
    expect(JSON.parse(rows.stdout)[0].n).toBe(run.nodes.find((n) => n.node === "demo/words")!.rows.out)
  }, 120_000)

  it("a lease left by a killed run expires with its process", () => {
    const box = sandbox("gc-stale")
    fs.mkdirSync(path.join(box.store, "leases"), { recursive: true })
    // a pid that cannot be alive (above the kernel's pid_max)
    fs.writeFileSync(path.join(box.store, "leases", "x.json"), JSON.stringify({ run: "x", pid: 2 ** 30, host: os.hostname(), started: new Date().toISOString() }))
    const r = dag(box, ["gc"])
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readdirSync(path.join(box.store, "leases"))).toEqual([])
  })

  it("gc --keep 0 and negative values are refused (exit 2), deleting nothing", () => {
    const box = sandbox("gc-keep")
    expect(dag(box, ["run", "demo"]).code).toBe(0)
    const zero = dag(box, ["gc", "--keep", "0"])
    expect(zero.code).toBe(2)
    expect(zero.stderr).toMatch(/keep at least 1 run record/)
    expect(dag(box, ["gc", "--keep=-1"]).code).toBe(2)
    expect(fs.readdirSync(box.runs).length).toBe(1)
  }, 60_000)
})

describe("credentials in URLs", () => {
  it("a password inside DAG_HUB_URL appears in no file and on no output line", () => {
    const box = sandbox("redact")
    const env = { ...box, env: { ...box.env, DAG_HUB_URL: "http://reader:s3cret-pw@127.0.0.1:9/" } }
    const r = dag(env, ["run", "proof-pile-2", "--select", "stack/source", "--param", "stack/source.paths=hf://datasets/team/data/x.parquet"])
    expect(r.code).not.toBe(0)
    expect(r.stdout + r.stderr).toMatch(/127\.0\.0\.1/) // the error names the endpoint…
    expect(r.stdout + r.stderr).not.toContain("s3cret-pw") // …without its password
    const files = [box.runs, box.store].filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d, { recursive: true }).map((f) => path.join(d, String(f))))
    for (const f of files.filter((f) => fs.statSync(f).isFile())) expect(fs.readFileSync(f, "utf8"), f).not.toContain("s3cret-pw")
  }, 60_000)
})


describe("truncated WARC records", () => {
  it("a plain WARC cut inside a record's headers or its page is counted as truncated-warc at once; no cut page is kept", () => {
    const box = sandbox("warc-cut")
    const whole = gunzipSync(fs.readFileSync(path.join(ROOT, "samples/owm/sample.warc.gz")))
    const complete = summary(dag(box, ["run", "proof-pile-2", "--select", "owm/warc", "--param", `owm/warc.paths=${path.join(ROOT, "samples/owm/sample.warc.gz")}`, "--json"]))
    const pages = nodeOf(complete, "owm/warc").rows.out
    const read = () => JSON.parse(dag(box, ["sql", "select url, md5(html) AS html from owm_warc order by url", "--format", "json"]).stdout) as Array<{ url: string; html: string }>
    const full = new Map(read().map((p) => [p.url, p.html]))
    expect(full.size).toBe(pages)
    for (const bytes of [857, 5000, Math.floor(whole.length / 2)]) {
      const file = path.join(box.dir, `cut-${bytes}.warc`)
      fs.writeFileSync(file, whole.subarray(0, bytes))
      const t0 = Date.now()
      const r = dag(box, ["run", "proof-pile-2", "--select", "owm/warc", "--param", `owm/warc.paths=${file}`, "--json"])
      expect(Date.now() - t0).toBeLessThan(30_000)
      const node = nodeOf(summary(r), "owm/warc")
      expect(node.dropped["truncated-warc"], `cut at ${bytes}`).toBe(1)
      expect(node.rows.out).toBeLessThan(pages)
      // every page kept is whole: identical to the same page read from the complete file
      for (const p of read()) expect(p.html, p.url).toBe(full.get(p.url))
    }
  }, 120_000)
})
