/** The `dag` command end to end: real processes, real DuckDB, real files in temp folders. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dag, demoInputs, derivedEntries, nodeOf, readRunRecord, sandbox, summary } from "./helpers.js"

describe("dag run demo", () => {
  it("computes everything, then re-runs fully cached", () => {
    const box = sandbox("hit")
    const paths = demoInputs(box)
    const first = dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"])
    expect(first.code, first.stderr).toBe(0)
    const s1 = summary(first)
    expect(s1.nodes.map((n) => n.status)).toEqual(["computed", "computed", "computed", "computed", "computed"])
    expect(nodeOf(s1, "demo/read").shards).toEqual({ total: 4, cached: 0, computed: 4 })
    expect(nodeOf(s1, "demo/clean").dropped["too-short"]).toBe(2)
    expect(nodeOf(s1, "demo/clean").rows.out).toBe(nodeOf(s1, "demo/clean").rows.in - 2)
    const second = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"]))
    expect(second.nodes.every((n) => n.status === "cached")).toBe(true)
    expect(nodeOf(second, "demo/top-words").rows).toEqual(nodeOf(s1, "demo/top-words").rows)
    const record = readRunRecord(box, second.run)
    expect(record.status).toBe("ok")
    expect(record.nodes.find((n) => n.node === "demo/clean")?.key).toBe(readRunRecord(box, s1.run).nodes.find((n) => n.node === "demo/clean")?.key)
  })

  it("recomputes one shard per map node when one input file changes", () => {
    const box = sandbox("shard")
    const paths = demoInputs(box)
    const p = ["--param", `demo/read.paths=${paths}`, "--json"]
    dag(box, ["run", "demo", ...p])
    fs.appendFileSync(path.join(box.dir, "input", "geometry.txt"), "\n\nA new paragraph about the angles of a pentagon, which add up to three straight angles.\n")
    const s = summary(dag(box, ["run", "demo", ...p]))
    for (const n of ["demo/read", "demo/clean", "demo/words"]) expect(nodeOf(s, n).shards, n).toEqual({ total: 4, cached: 3, computed: 1 })
    expect(nodeOf(s, "demo/read").status).toBe("partial")
    // lineage: the recomputed words shard traces back to the changed file
    const why = dag(box, ["why", "demo/words", "--shard", "2"])
    expect(why.stdout).toMatch(/← source .*geometry\.txt/)
  })

  it("a param change recomputes only dependents, and `dag why` names the param old → new", () => {
    const box = sandbox("param")
    const paths = demoInputs(box)
    const base = ["--param", `demo/read.paths=${paths}`]
    dag(box, ["run", "demo", ...base])
    const why = dag(box, ["why", "demo/clean", ...base, "--param", "demo/clean.lowercase=true"])
    expect(why.stdout).toMatch(/STALE — PARAMS: lowercase false → true; 4\/4 shards stale/)
    const down = dag(box, ["why", "demo/words", ...base, "--param", "demo/clean.lowercase=true"])
    expect(down.stdout).toMatch(/PARAMS: lowercase false → true \(upstream demo\/clean\)/)
    const dry = dag(box, ["run", "demo", ...base, "--param", "demo/clean.lowercase=true", "--dry-run"])
    expect(dry.stdout).toMatch(/plan: 4 of 5 nodes would run/)
    const s = summary(dag(box, ["run", "demo", ...base, "--param", "demo/clean.lowercase=true", "--json"]))
    expect(nodeOf(s, "demo/read").status).toBe("cached")
    expect(nodeOf(s, "demo/clean").status).toBe("computed")
    expect(nodeOf(s, "demo/words").status).toBe("computed")
    // words lowercases anyway, so its output is byte-identical and the aggregate is reused
    expect(nodeOf(s, "demo/top-words").status).toBe("cached")
    const record = readRunRecord(box, s.run)
    const words = record.nodes.find((n) => n.node === "demo/words")!
    expect(words.causes[0]?.detail).toMatch(/PARAMS: lowercase false → true \(upstream demo\/clean\)/)
    const after = dag(box, ["why", "demo/clean", ...base, "--param", "demo/clean.lowercase=true"])
    expect(after.stdout).toMatch(/up to date/)
    expect(after.stdout).toMatch(/last computed in run .*PARAMS: lowercase false → true/)
  })

  it("--select runs only the named nodes and their ancestors; --force recomputes", () => {
    const box = sandbox("select")
    const paths = demoInputs(box)
    const s = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--select", "demo/clean", "--json"]))
    expect(s.nodes.map((n) => n.node)).toEqual(["demo/read", "demo/clean"])
    const f = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--select", "demo/clean", "--force", "demo/clean", "--json"]))
    expect(nodeOf(f, "demo/read").status).toBe("cached")
    expect(nodeOf(f, "demo/clean").shards.computed).toBe(4)
  })

  it("detects a truncated shard when planning and recomputes exactly that shard", () => {
    const box = sandbox("trunc")
    const paths = demoInputs(box)
    const p = ["--param", `demo/read.paths=${paths}`, "--json"]
    const first = summary(dag(box, ["run", "demo", ...p]))
    const rec = readRunRecord(box, first.run)
    const cleanId = rec.nodes.find((n) => n.node === "demo/clean")!.outputs.out!
    const manifest = JSON.parse(fs.readFileSync(path.join(box.store, "artifacts", cleanId.slice(0, 2), `${cleanId}.json`), "utf8"))
    const victim = path.join(box.store, "objects", manifest.shards[0].hash.slice(0, 2), `${manifest.shards[0].hash}.parquet`)
    fs.truncateSync(victim, 100)
    const s = summary(dag(box, ["run", "demo", ...p]))
    expect(nodeOf(s, "demo/clean")).toMatchObject({ status: "partial", shards: { total: 4, cached: 3, computed: 1 } })
    expect(fs.statSync(victim).size).toBe(manifest.shards[0].bytes)
  })

  it("hashes every cached shard with --verify and repairs a same-size corruption", () => {
    const box = sandbox("verify")
    const paths = demoInputs(box)
    const p = ["--param", `demo/read.paths=${paths}`, "--json"]
    const first = summary(dag(box, ["run", "demo", ...p]))
    const id = readRunRecord(box, first.run).nodes.find((n) => n.node === "demo/words")!.outputs.out!
    const manifest = JSON.parse(fs.readFileSync(path.join(box.store, "artifacts", id.slice(0, 2), `${id}.json`), "utf8"))
    const victim = path.join(box.store, "objects", manifest.shards[1].hash.slice(0, 2), `${manifest.shards[1].hash}.parquet`)
    const original = fs.readFileSync(victim)
    const bad = Buffer.from(original)
    bad[50] = bad[50]! ^ 0xff
    fs.writeFileSync(victim, bad)
    const s = summary(dag(box, ["run", "demo", ...p, "--verify"]))
    expect(nodeOf(s, "demo/words")).toMatchObject({ status: "partial", shards: { computed: 1, cached: 3 } })
    expect(fs.readFileSync(victim).equals(original)).toBe(true)
  })
})

describe("bad input", () => {
  const box = sandbox("bad")
  it("a param of the wrong type names node and param, exits 2, runs nothing", () => {
    const r = dag(box, ["run", "demo", "--param", "demo/clean.minChars=lots"])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/error: node demo\/clean: param minChars is invalid/)
    expect(fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []).toEqual([])
  })
  it("an unknown param lists the node's params", () => {
    const r = dag(box, ["run", "demo", "--param", "demo/clean.minChar=3"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown param "minChar"; did you mean "minChars"\?; it takes minChars, lowercase/)
  })
  it("an unknown node, pipeline or run says what exists", () => {
    expect(dag(box, ["run", "demo", "--param", "demo/cleen.minChars=3"]).stderr).toMatch(/no node "demo\/cleen" in this pipeline; did you mean "demo\/clean.minChars"\?/)
    const p = dag(box, ["run", "nope"])
    expect(p.code).toBe(2)
    expect(p.stderr).toMatch(/no pipeline "nope"; available: dedup, demo, overlap, proof-pile-2 \(one per file in .*\/pipelines\/\)/) // not the hidden benchmark one
    expect(dag(box, ["run", "proof-pile2"]).stderr).toMatch(/no pipeline "proof-pile2"; did you mean "proof-pile-2"\? Available: /)
    expect(dag(box, ["run", "demo", "--select", "demo/x"]).stderr).toMatch(/no node "demo\/x" in pipeline demo/)
    // every hint is a command that works
    const typo = dag(box, ["run", "demo", "--select", "demo/claen"])
    expect(typo.stderr).toMatch(/no node "demo\/claen" in pipeline demo; did you mean "demo\/clean"\?; list them with `dag graph demo`/)
    expect(dag(box, ["graph", "demo"]).code).toBe(0)
    expect(dag(box, ["status", "--run", "nope"]).stderr).toMatch(/no runs yet/)
    const ex = dag(box, ["run", "demo", "--executor", "slrum"])
    expect(ex.code).toBe(2)
    expect(ex.stderr).toMatch(/unknown executor "slrum"; did you mean "slurm"\? Executors: local, slurm/)
  })
  it("input files that match nothing fail the source with a hint and exit 2 (bad input), not a crash", () => {
    const r = dag(box, ["run", "demo", "--param", `demo/read.paths=${box.dir}/none/*.txt`])
    expect(r.code).toBe(2)
    expect(r.stdout).toMatch(/no files match .*set --param demo\/read\.paths=GLOB/)
  })
  it("every verb has --help", () => {
    for (const verb of ["init", "run", "status", "runs", "why", "graph", "ls", "sql", "export", "publish", "report", "gc", "doctor", "cancel"]) {
      const r = dag(box, [verb, "--help"])
      expect(r.code, verb).toBe(0)
      expect(r.stdout, verb).toMatch(/USAGE/)
      // into a pipe: no colour escape codes
      expect(r.stdout.includes("\u001b["), verb).toBe(false)
      // usage reads as the command a user types; options carry their own words, not type boilerplate
      expect(r.stdout, verb).toMatch(new RegExp(`^\\$ dag ${verb}\\b`, "m"))
      expect(r.stdout, verb).not.toMatch(/A user-defined piece of text|One of the following|A directory\.|A file\.|--wizard/)
      // examples that start with the verb, and every option and argument described with an example or its default
      expect(r.stdout, verb).toMatch(new RegExp(`^EXAMPLES\\n\\n  \\$ dag ${verb}\\b`, "m"))
      const entries = [...r.stdout.matchAll(/^(--[a-z-]+|<[a-z|]+>)[^\n]*\n\n((?: {2}[^\n]*\n)+)/gm)]
      expect(entries.length, verb).toBeGreaterThan(0)
      for (const [, name, text] of entries) expect(text, `${verb} ${name}`).toMatch(/e\.g\.|default|repeatable/)
    }
    // the overview: one line per verb, where to start
    const top = dag(box, ["--help"])
    expect(top.code).toBe(0)
    for (const verb of ["init", "run", "status", "runs", "why", "sql", "export", "publish", "report", "gc", "doctor", "tokenize"]) expect(top.stdout).toMatch(new RegExp(`^  dag ${verb}\\b`, "m"))
    expect(top.stdout).toMatch(/npx dag run proof-pile-2/)
    expect(dag(box, []).stdout).toBe(top.stdout)
    // a mistyped verb: the nearest one, exit 2
    const typo = dag(box, ["runn", "demo"])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/unknown command "runn"; did you mean "run"\?/)
  })
})

describe("dag sql, ls, export, gc", () => {
  const box = sandbox("inspect")
  const paths = demoInputs(box)
  const first = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"]))

  it("queries any dataset through views named after nodes", () => {
    const r = dag(box, ["sql", "select count(*) as n from demo_clean", "--format", "json"])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual([{ n: nodeOf(first, "demo/clean").rows.out }])
    const csv = dag(box, ["sql", "select word, count from demo_top_words order by count desc, word limit 2", "--format", "csv"])
    expect(csv.stdout.split("\n")[0]).toBe("word,count")
    expect(dag(box, ["sql", "select * from demo_words limit 3"]).stdout).toMatch(/\(3 rows\)/)
  })

  it("a mistyped view gets the nearest view of the run, and the command that lists them", () => {
    const r = dag(box, ["sql", "select count(*) from demo_cleen"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`did you mean "demo_clean"?`)
    const ls = r.stderr
      .match(/`(dag ls --run \S+)`/)![1]!
      .split(" ")
      .slice(1)
    const listed = dag(box, ls)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain("demo_clean")
  })

  it("cannot write: COPY, CREATE, ATTACH, EXPLAIN ANALYZE of a write, and file readers are refused", () => {
    const target = path.join(box.dir, "leak.csv")
    for (const q of [
      `COPY demo_words TO '${target}'`,
      "CREATE TABLE t AS SELECT 1",
      `ATTACH '${box.dir}/x.db'`,
      "SELECT * FROM read_csv('/etc/hostname')",
      "SET enable_external_access=true",
      `EXPLAIN ANALYZE COPY (SELECT 'x' AS a) TO '${target}'`,
      "explain   analyse CREATE TABLE t AS SELECT 1",
      "EXPLAIN ANALYZE SELECT 1; COPY demo_words TO '/tmp/x.csv'",
    ]) {
      const r = dag(box, ["sql", q])
      expect(r.code, q).toBe(2)
      expect(r.stderr, q).toMatch(/read-only/)
    }
    expect(fs.existsSync(target)).toBe(false)
    // reading plans stays possible
    const plan = dag(box, ["sql", "EXPLAIN ANALYZE SELECT count(*) FROM demo_words"])
    expect(plan.code, plan.stderr).toBe(0)
  })

  it("the interactive prompt answers queries from stdin", () => {
    const r = dag(box, ["sql"], { input: "select 40 + 2 as answer;\n.quit\n" })
    expect(r.stdout).toMatch(/answer/)
    expect(r.stdout).toMatch(/42/)
  })

  it("lists artifacts and exports parquet, jsonl and arrow", async () => {
    const ls = JSON.parse(dag(box, ["ls", "--json"]).stdout) as Array<{ node: string; view: string | null; rows: number | null }>
    expect(ls.find((a) => a.node === "demo/top-words")?.view).toBe("demo_top_words")
    const out = path.join(box.dir, "export")
    for (const format of ["parquet", "jsonl", "arrow"]) expect(dag(box, ["export", "demo/clean", "--format", format, "--out", out]).code, format).toBe(0)
    const files = fs.readdirSync(out).sort()
    expect(files.filter((f) => f.endsWith(".parquet"))).toHaveLength(4)
    const jsonl = files.filter((f) => f.endsWith(".jsonl")).flatMap((f) => fs.readFileSync(path.join(out, f), "utf8").trim().split("\n"))
    expect(jsonl).toHaveLength(nodeOf(first, "demo/clean").rows.out)
    expect(JSON.parse(jsonl[0]!)).toHaveProperty("id")
    const arrow = await import("apache-arrow")
    const arrowRows = files.filter((f) => f.endsWith(".arrow")).reduce((n, f) => n + arrow.tableFromIPC(fs.readFileSync(path.join(out, f))).numRows, 0)
    expect(arrowRows).toBe(nodeOf(first, "demo/clean").rows.out)
    const t = arrow.tableFromIPC(
      fs.readFileSync(
        path.join(
          out,
          files.find((f) => f.endsWith(".arrow"))!
        )
      )
    )
    expect(String(t.schema.fields.find((f) => f.name === "text")?.type)).toBe("Utf8")
  })

  it("gc keeps what kept runs reference and removes the rest", () => {
    dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.lowercase=true"])
    const dry = dag(box, ["gc", "--dry-run"])
    expect(dry.stdout).toMatch(/would remove 0 objects/)
    const derived = () => derivedEntries(box).map((f) => (JSON.parse(fs.readFileSync(f, "utf8")) as { from: Record<string, string> }).from)
    const before = derived()
    const gc = dag(box, ["gc", "--keep", "1"])
    expect(gc.code).toBe(0)
    expect(gc.stdout).toMatch(/removed [1-9]\d* objects/)
    // the reports' cached results of deleted artifacts go with them; those of kept artifacts stay
    const after = derived()
    const removed = Number(/(\d+) cached report results/.exec(gc.stdout)?.[1])
    expect(removed).toBeGreaterThan(0)
    expect(after.length).toBe(before.length - removed)
    const manifests = new Set(fs.readdirSync(path.join(box.store, "artifacts"), { recursive: true }).map((f) => path.basename(String(f)).replace(/\.json$/, "")))
    for (const from of after) for (const id of Object.values(from)) expect(manifests.has(id)).toBe(true)
    // the kept run is intact
    const r = dag(box, ["sql", "select count(*) as n from demo_clean", "--format", "json"])
    expect(r.code, r.stderr).toBe(0)
    expect(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.lowercase=true", "--json", "--verify"]).code).toBe(0)
  })
})
