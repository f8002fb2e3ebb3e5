/**
 * Which run commands read: the latest *successful* run holding what is asked for (a failed run
 * never hides results), `--run` as id, unique prefix, `latest` or `latest~N`, and `dag runs`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dagAwait, sandbox } from "./helpers.js"

describe("runs as users mean them", () => {
  it("a failed run hides nothing; --run takes prefixes, latest and latest~N; dag runs lists them", async () => {
    const box = sandbox("runs")
    const ok = await dagAwait(box, ["run", "demo", "--json"])
    expect(ok.code, ok.stderr).toBe(0)
    const good = (JSON.parse(ok.stdout.trim().split("\n").at(-1)!) as { run: string }).run
    // a run that fails at run time (its source's Hub endpoint refuses connections)
    const failedBox = { ...box, env: { ...box.env, DAG_HUB_URL: "http://127.0.0.1:9" } }
    const bad = await dagAwait(failedBox, ["run", "demo", "--param", "demo/read.paths=hf://datasets/a/b/*.txt", "--json"])
    expect(bad.code).toBe(1)
    const runs = JSON.parse((await dagAwait(box, ["runs", "--json"])).stdout) as Array<{ run: string; status: string; params: Array<string> }>
    expect(runs.map((r) => r.status)).toEqual(["failed", "ok"])
    expect(runs[1]!.run).toBe(good)
    expect(runs[0]!.params).toEqual(["demo/read.paths=hf://datasets/a/b/*.txt"])
    const failed = runs[0]!.run
    // the journal records how long the main thread stalled (what progress and Ctrl-C waited on)
    const journal = JSON.parse(fs.readFileSync(path.join(box.runs, good, "run.json"), "utf8")) as {
      mainThread?: { maxStallMs: number; p99StallMs: number; stalls: Array<{ ms: number; running: Array<string> }> }
    }
    expect(journal.mainThread?.p99StallMs).toBeGreaterThanOrEqual(0)
    expect(Array.isArray(journal.mainThread!.stalls)).toBe(true) // each stall over 200 ms, with the nodes running then
    for (const s of journal.mainThread!.stalls) expect(s.ms).toBeGreaterThanOrEqual(200)
    expect(journal.mainThread!.maxStallMs).toBeLessThan(2000)
    expect((await dagAwait(box, ["status", "--run", good])).stdout).toMatch(/main thread: longest stall \d+ ms/)

    // reading commands take the successful run; status shows the latest, failed or not
    const sql = await dagAwait(box, ["sql", "select count(*)::INTEGER as n from demo_top_words", "--format", "json"])
    expect(sql.code, sql.stderr).toBe(0)
    expect((JSON.parse(sql.stdout) as Array<{ n: number }>)[0]!.n).toBeGreaterThan(0)
    const ls = await dagAwait(box, ["ls", "--json"])
    expect(ls.stdout).toContain("demo_top_words")
    const status = (await dagAwait(box, ["status"])).stdout
    expect(status).toContain(`run ${failed}`)
    // …and names the successful run the reading commands use, with the command that shows it
    expect(status).toContain(`the latest successful run of demo is ${good} (what sql, ls, export and report read): \`dag status --run ${good}\``)

    // --run: a unique prefix, latest, latest~N; an ambiguous prefix and a missing run say what to do
    const byPrefix = await dagAwait(box, ["status", "--run", good.slice(0, good.length - 3)])
    expect(byPrefix.stdout).toContain(`run ${good}`)
    expect((await dagAwait(box, ["status", "--run", "latest~1"])).stdout).toContain(`run ${good}`)
    const ambiguous = await dagAwait(box, ["status", "--run", good.slice(0, 4)])
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toMatch(/matches 2 runs .*give more of the id/)
    const missing = await dagAwait(box, ["status", "--run", "nope"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no run "nope".*dag runs/)
    const tooFar = await dagAwait(box, ["ls", "--run", "latest~1"])
    expect(tooFar.code).toBe(2)
    expect(tooFar.stderr).toMatch(/there are only 1 successful run/)
    // the same table as a page, each run linking to its report
    const page = path.join(box.dir, "runs.html")
    expect((await dagAwait(box, ["runs", "--html", page])).code).toBe(0)
    const links = [...fs.readFileSync(page, "utf8").matchAll(/<a href="([^"]+)"><code>([^<]+)<\/code><\/a>/g)]
    expect(links.map((l) => l[2])).toEqual([failed, good])
    for (const [, href] of links) expect(fs.existsSync(path.resolve(path.dirname(page), href!)), href).toBe(true)
    const human = await dagAwait(box, ["runs"])
    expect(human.stdout).toMatch(/run\s+pipeline\s+status/)
    expect(human.stdout).toContain(failed)
  }, 120_000)

  it("dag runs, the runs page and each report compare the pipeline's key figures across runs", async () => {
    const box = sandbox("metrics")
    expect((await dagAwait(box, ["run", "demo"])).code).toBe(0)
    expect((await dagAwait(box, ["run", "demo", "--param", "demo/clean.minChars=200"])).code).toBe(0)
    const runs = JSON.parse((await dagAwait(box, ["runs", "--json"])).stdout) as Array<{ run: string; metrics: Record<string, unknown>; params: Array<string> }>
    expect(runs).toHaveLength(2)
    // each figure is what its query gives on that run's data
    for (const r of runs) {
      const sql = await dagAwait(box, ["sql", "select count(*)::INTEGER as n from demo_clean", "--run", r.run, "--format", "json"])
      expect(r.metrics.paragraphs).toBe((JSON.parse(sql.stdout) as Array<{ n: number }>)[0]!.n)
      expect(typeof r.metrics["top word"]).toBe("string")
    }
    expect(runs[0]!.metrics.paragraphs).toBeLessThan(runs[1]!.metrics.paragraphs as number) // longer paragraphs only
    const human = (await dagAwait(box, ["runs"])).stdout
    expect(human).toMatch(/failed\s+paragraphs\s+top word\s+params/)
    // the latest report shows its figures and a table of the pipeline's recent runs, linking to the older one's report
    const report = fs.readFileSync(path.join(box.runs, runs[0]!.run, "report.html"), "utf8")
    expect(report).toContain(`<span>paragraphs</span>`)
    const recent = report.slice(report.indexOf("Recent runs of demo"))
    expect(recent).toContain(`<code>${runs[0]!.run}</code> (this run)`)
    expect(recent).toContain(`<a href="../${runs[1]!.run}/report.html"><code>${runs[1]!.run}</code></a>`)
    expect(recent).toContain("demo/clean.minChars=200")
    const page = path.join(box.dir, "runs.html")
    expect((await dagAwait(box, ["runs", "--html", page])).code).toBe(0)
    expect(fs.readFileSync(page, "utf8")).toMatch(/<th>paragraphs<\/th><th>top word<\/th>/)
    // an older run's report compares it with the runs before it, not with later ones
    expect((await dagAwait(box, ["report", "--run", runs[1]!.run])).code).toBe(0)
    expect(fs.readFileSync(path.join(box.runs, runs[1]!.run, "report.html"), "utf8")).not.toContain(runs[0]!.run)
  }, 60_000)

  it("dag why says which params it answers for, and points at the params the latest run used", async () => {
    const box = sandbox("why-params")
    expect((await dagAwait(box, ["run", "demo"])).code).toBe(0)
    expect((await dagAwait(box, ["run", "demo", "--param", "demo/clean.lowercase=true"])).code).toBe(0)
    const why = await dagAwait(box, ["why", "demo/words"])
    expect(why.stdout).toMatch(/demo\/words: up to date .*\n {2}\(for the default params\)/)
    const hint = /ask about those with `(dag why [^`]+)`/.exec(why.stdout)
    expect(hint?.[1]).toBe("dag why demo/words --param demo/clean.lowercase=true")
    // the hint is a command that works, and answers for those params
    const asked = await dagAwait(box, hint![1]!.split(" ").slice(1))
    expect(asked.code, asked.stderr).toBe(0)
    expect(asked.stdout).toMatch(/up to date .*\n {2}\(for --param demo\/clean.lowercase=true\)/)
    expect(asked.stdout).not.toMatch(/note: the latest run/)
    const typo = await dagAwait(box, ["why", "demo/wrods"])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/did you mean "demo\/words"\?/)
  }, 60_000)
})
