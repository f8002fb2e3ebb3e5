/** What the store promises under concurrent use: gc never races a live run; bad gc arguments are refused. */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { gunzipSync } from "node:zlib"
import { spawnSync } from "node:child_process"
import { connect, sqlString } from "../engine/store/duckdb.js"
import { jsonLines } from "../nodes/jsonl.js"
import { hubFileLocal, parseHubRef } from "../nodes/hub/files.js"
import { Journal, newRecord } from "../engine/journal.js"
import { ROOT, dag, dagAsync, demoInputs, nodeOf, sandbox, summary, tempDir, waitFor } from "./helpers.js"

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

describe("code identity", () => {
  it("editing a helper changes the code hash of every node that uses it, factory-made ones included, and of no other", () => {
    // a copy of the project, built by the real build script
    const copy = tempDir("code-identity")
    for (const entry of ["engine", "nodes", "pipelines", "schemas", "scripts", "samples", "dag.config.ts", "package.json", "tsconfig.json"]) {
      fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true })
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"))
    const build = () => {
      const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: copy, encoding: "utf8", env: { ...process.env, DAG_QUIET_BUILD: "1" } })
      expect(r.status, r.stderr).toBe(0)
      return JSON.parse(fs.readFileSync(path.join(copy, "dist", "code-hashes.json"), "utf8")) as Record<string, string>
    }
    const before = build()
    fs.appendFileSync(path.join(copy, "nodes/dedup/clusters.ts"), "\n// an edit to the connected-components helper\n")
    const after = build()
    for (const n of ["dedup/minhash", "dedup/simhash", "dedup/exact"]) {
      expect(before[n], n).toBeDefined()
      expect(after[n], n).not.toBe(before[n])
    }
    for (const n of ["owm/extract", "demo/words", "tokens/pack", "overlap/ngram", "stack/source"]) expect(after[n], n).toBe(before[n])
    // a factory call's own arguments count too
    const pp2 = path.join(copy, "pipelines/proof-pile-2.ts")
    fs.writeFileSync(
      pp2,
      fs.readFileSync(pp2, "utf8").replace('makeTokenize("tokens/tokenize-owm", WebDocument, "open-web-math", "by-id")', 'makeTokenize("tokens/tokenize-owm", WebDocument, "open-web-math", "train")')
    )
    const third = build()
    expect(third["tokens/tokenize-owm"]).not.toBe(after["tokens/tokenize-owm"])
    expect(third["tokens/tokenize-arxiv"]).toBe(after["tokens/tokenize-arxiv"])
  }, 120_000)
})

describe("empty documents", () => {
  it("a 0-byte file from The Stack is dropped as empty where it is read", async () => {
    const box = sandbox("stack-empty")
    const file = path.join(box.dir, "the-stack-lean.parquet")
    const conn = await connect()
    try {
      await conn.run(`COPY (SELECT * FROM (VALUES ('', 'Lean', 'Empty.lean', 'a/b', 'lean', 0), ('theorem t : 1 = 1 := rfl', 'Lean', 'T.lean', 'a/b', 'lean', 24))
        v(content, lang, max_stars_repo_path, max_stars_repo_name, ext, size)) TO ${sqlString(file)} (FORMAT parquet)`)
    } finally {
      conn.closeSync()
    }
    const s = summary(dag(box, ["run", "proof-pile-2", "--select", "stack/filter", "--param", `stack/source.paths=${file}`, "--json"]))
    expect(nodeOf(s, "stack/source").dropped).toEqual({ empty: 1 })
    expect(nodeOf(s, "stack/source").rows.out).toBe(1)
  }, 60_000)
})

describe("long lines", () => {
  it("a 40 MB JSON line is read in linear time, with the lines around it intact", async () => {
    const dir = tempDir("long-line")
    const file = path.join(dir, "docs.jsonl")
    const big = JSON.stringify({ id: "big", text: "x".repeat(40 << 20) })
    fs.writeFileSync(file, [JSON.stringify({ id: "a", text: "first" }), big, JSON.stringify({ id: "b", text: "last" })].join("\n"))
    const t0 = performance.now()
    const rows: Array<{ id: unknown; length: number }> = []
    for await (const { row } of jsonLines(file, () => expect.fail("no bad lines"))) rows.push({ id: row.id, length: String(row.text).length })
    expect(rows).toEqual([
      { id: "a", length: 5 },
      { id: "big", length: 40 << 20 },
      { id: "b", length: 4 },
    ])
    // quadratic joining took over a minute for 50 MB; linear reading is well under 10 s even on a busy machine
    expect(performance.now() - t0).toBeLessThan(10_000)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

describe("hostile or wrong input is refused", () => {
  it("a Hub listing with ../ or an odd object id is refused before anything is written; hf:// paths with .. do not parse", async () => {
    const cache = tempDir("hub-cache")
    const before = process.env.DAG_HUB_CACHE
    process.env.DAG_HUB_CACHE = cache
    try {
      const ref = parseHubRef("hf://datasets/team/data/**/*.parquet")!
      for (const file of [
        { path: "../../escape.parquet", size: 1, oid: "abc" },
        { path: "data/x.parquet", size: 1, oid: "../up" },
        { path: "/etc/x", size: 1, oid: "abc" },
      ]) {
        await expect(hubFileLocal(ref, file)).rejects.toThrow(/unsafe file path or object id/)
      }
      expect(fs.readdirSync(cache)).toEqual([])
      expect(fs.existsSync(path.join(cache, "..", "escape.parquet"))).toBe(false)
    } finally {
      if (before === undefined) delete process.env.DAG_HUB_CACHE
      else process.env.DAG_HUB_CACHE = before
    }
    expect(parseHubRef("hf://datasets/team/data/../../x.parquet")).toBeUndefined()
    expect(parseHubRef("hf://datasets/team/data@main/data/*.parquet")).toBeDefined()
  })

  it("a param outside its range is refused before anything runs (exit 2)", () => {
    const box = sandbox("param-range")
    const r = dag(box, ["run", "dedup", "--param", "dedup/minhash.threshold=1.5"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/threshold/)
    expect(fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []).toEqual([])
  }, 60_000)
})

describe("the CLI owns uncaught errors", () => {
  it("after the TF.js wasm backend (Emscripten) loads, an uncaught error still exits 3 with its message, never 7", async () => {
    const esbuild = await import("esbuild")
    const dir = path.join(ROOT, "node_modules", ".mathdag-test")
    fs.mkdirSync(dir, { recursive: true })
    const entry = path.join(dir, `crash-${process.pid}.ts`)
    const out = path.join(dir, `crash-${process.pid}.cjs`)
    fs.writeFileSync(
      entry,
      `import { installCrashHandlers } from ${JSON.stringify(path.join(ROOT, "engine/crash.ts"))}
       import { loadTf } from ${JSON.stringify(path.join(ROOT, "nodes/train/model.ts"))}
       installCrashHandlers()
       loadTf("wasm").then(({ backend }) => {
         console.log("backend " + backend + ", handlers " + process.listeners("uncaughtException").length)
         setTimeout(() => { throw new Error("boom from a timer") }, 10)
       })`
    )
    esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: "node", format: "cjs", outfile: out, external: ["@tensorflow/*"], logLevel: "silent" })
    const r = spawnSync(process.execPath, [out], { encoding: "utf8", cwd: ROOT, timeout: 60_000 })
    fs.rmSync(entry, { force: true })
    fs.rmSync(out, { force: true })
    expect(r.stdout).toMatch(/backend wasm, handlers 1/)
    expect(r.status, r.stderr).toBe(3)
    expect(r.stderr).toMatch(/^internal error: boom from a timer/m)
  }, 90_000)
})

describe("gc per pipeline", () => {
  it("gc --keep 1 keeps each pipeline's newest run: pipelines sharing a node name (docs) do not push each other out", () => {
    const box = sandbox("gc-pipelines")
    const write = (name: string, texts: Array<string>) => {
      const file = path.join(box.dir, name)
      fs.writeFileSync(file, texts.map((text, i) => JSON.stringify({ id: `${name}-${i}`, text })).join("\n") + "\n")
      return file
    }
    const a = write("a.jsonl", ["the first corpus has this document", "and this second document about primes"])
    const b = write("b.jsonl", ["another corpus entirely, about triangles"])
    const first = summary(dag(box, ["run", "dedup", "--select", "docs", "--param", `docs.paths=${a}`, "--json"]))
    summary(dag(box, ["run", "dedup", "--select", "docs", "--param", `docs.paths=${a}`, "--json"])) // an older run of dedup to drop
    const other = summary(dag(box, ["run", "overlap", "--select", "docs", "--param", `docs.paths=${b}`, "--json"]))
    const gc = dag(box, ["gc", "--keep", "1"])
    expect(gc.code, gc.stderr).toBe(0)
    expect(gc.stdout).toMatch(/deleted 1 old run record/)
    expect(fs.existsSync(path.join(box.runs, first.run))).toBe(false)
    for (const [pipeline, rows] of [
      ["dedup", 2],
      ["overlap", 1],
    ] as const) {
      const runId = fs.readdirSync(box.runs).find((id) => JSON.parse(fs.readFileSync(path.join(box.runs, id, "run.json"), "utf8")).pipeline === pipeline)!
      const r = dag(box, ["sql", "select count(*) as n from docs", "--format", "json", "--run", runId])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)[0].n).toBe(rows)
    }
    expect(other.run).toBeTruthy()
  }, 120_000)
})

describe("terminal output and odd requests", () => {
  it("dag sql's table escapes control characters from data (no escape sequence reaches the terminal)", () => {
    const box = sandbox("ctrl")
    expect(dag(box, ["run", "demo"]).code).toBe(0)
    const r = dag(box, ["sql", "select 'a' || chr(27) || '[2J' || chr(7) || 'b' || chr(155) || 'c' as t"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(r.stdout).toContain("a␛[2J␇b\\x9bc")
  }, 60_000)

  it("dag why --shard N for a shard that does not exist says so (exit 2), for map and global nodes", () => {
    const box = sandbox("why-shard")
    expect(dag(box, ["run", "demo"]).code).toBe(0)
    const map = dag(box, ["why", "demo/words", "--shard", "999", "--pipeline", "demo"])
    expect(map.code).toBe(2)
    expect(map.stderr).toMatch(/no such shard — demo\/words has 4 shard\(s\), numbered 0 to 3/)
    const global = dag(box, ["why", "demo/top-words", "--shard", "0", "--pipeline", "demo"])
    expect(global.code).toBe(2)
    expect(global.stderr).toMatch(/global node/)
    expect(dag(box, ["why", "demo/words", "--shard", "3", "--pipeline", "demo"]).stdout).toMatch(/demo\/words shard 3: \d+ rows/)
  }, 60_000)

  it("a journal write failing with ENOSPC (real, from /dev/full) warns once and does not stop the run", () => {
    const dir = tempDir("enospc")
    const journal = new Journal(dir, newRecord({ run: "r1", pipeline: "demo", profile: "default", dryRun: false, argv: [], overrides: [], nodes: [] }))
    fs.symlinkSync("/dev/full", path.join(dir, "r1", "events.jsonl"))
    const warnings: Array<string> = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string) => (warnings.push(String(chunk)), true)) as typeof process.stderr.write
    try {
      for (let i = 0; i < 5; i++) expect(() => journal.event("node", { i })).not.toThrow()
      expect(() => journal.finish("ok")).not.toThrow()
    } finally {
      process.stderr.write = write
    }
    expect(warnings.length).toBe(1)
    expect(warnings[0]).toMatch(/could not write the run journal .* \(no space left on the device\); the run goes on/)
    expect(JSON.parse(fs.readFileSync(path.join(dir, "r1", "run.json"), "utf8")).status).toBe("ok") // the snapshot still landed
  })
})
