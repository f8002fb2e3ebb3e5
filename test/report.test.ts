/** Reports: the cell API, escaping, charts, and the report written after a real `dag run`. */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as Cell from "../engine/report/cell.js"
import { barChart, fmt, histogram, lineChart, ticks, timeline } from "../engine/report/charts.js"
import { dagSvg } from "../engine/report/dag.js"
import { clip, html, markdownToHtml, md } from "../engine/report/escape.js"
import { dag, demoInputs, derivedEntries, readRunRecord, sandbox, summary } from "./helpers.js"

const nodeRows = (record: ReturnType<typeof readRunRecord>, node: string): number => record.nodes.find((n) => n.node === node)!.rows.out

const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> & "quotes" 'single'`

describe("escaping", () => {
  it("turns markup into text", () => {
    expect(html(XSS)).not.toMatch(/<script|<img/)
    expect(html(XSS)).toContain("&lt;script&gt;")
    expect(html(`" onmouseover="x`)).toBe("&quot; onmouseover=&quot;x")
    expect(md("a|b\nc <x>")).toBe("a\\|b c &lt;x&gt;")
    expect(clip("x".repeat(300), 10)).toBe("xxxxxxxxxx… (300 chars)")
  })
  it("renders the Markdown subset without letting HTML through", () => {
    const out = markdownToHtml(`Hello **bold** and \`code\`\n\n- one\n- <b>two</b>\n\n## Title <script>`)
    expect(out).toContain("<strong>bold</strong>")
    expect(out).toContain("<code>code</code>")
    expect(out).toContain("<li>&lt;b&gt;two&lt;/b&gt;</li>")
    expect(out).toContain("<h4>Title &lt;script&gt;</h4>")
    expect(out).not.toMatch(/<script|<b>/)
  })
})

describe("charts", () => {
  it("formats numbers and picks round ticks", () => {
    expect(fmt(1234)).toBe("1,234")
    expect(fmt(45_600)).toBe("45.6k")
    expect(fmt(2_500_000)).toBe("2.5M")
    expect(fmt(0.12345)).toBe("0.123")
    expect(ticks(0, 97, 5)).toEqual([0, 20, 40, 60, 80])
    expect(ticks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1])
  })
  it("draws one mark per bar, bin and line, with escaped labels", () => {
    const bars = barChart(
      [
        { label: "<b>x</b>", value: 3 },
        { label: "y", value: 5 },
      ],
      { valueLabel: "rows" }
    )
    expect(bars.match(/class="mark"/g)).toHaveLength(2)
    expect(bars).toContain("&lt;b&gt;x&lt;/b&gt;")
    expect(bars).toContain(">rows<")
    const hist = histogram([1, 2, 2, 3, 3, 3, 10], { bins: 5, xLabel: "chars" })
    expect(hist.match(/class="mark"/g)).toHaveLength(5)
    expect(hist).toContain("n = 7")
    const line = lineChart(
      [
        {
          name: "loss",
          points: [
            [1, 3],
            [2, 2],
            [3, 1.5],
          ],
        },
      ],
      { xLabel: "step", yLabel: "loss" }
    )
    expect(line).toMatch(/<path class="mark" d="M[\d.]+ [\d.]+ L/)
    expect(line).toContain(">step<")
    // a series far longer than the chart is wide draws (no stack overflow) at a bounded size
    const long = lineChart([{ name: "chars", points: Array.from({ length: 300_000 }, (_, i) => [i, (i * 37) % 1000] as [number, number]) }])
    const pathD = /d="([^"]+)"/.exec(long.slice(long.indexOf('class="mark"') - 10))![1]!
    expect(pathD.split("L").length).toBeLessThanOrEqual(1501)
    expect(pathD.split("L").length).toBeGreaterThan(1000)
    expect(timeline([{ label: "a", start: 0, end: 500, color: "#000" }])).toContain("seconds since the run started")
    expect(histogram([])).toContain("no data")
  })
  it("shows node-length labels whole and shortens only very long ones, in bars and on the timeline", () => {
    const name = "tokens/tokenize-stack-validation" // 32 characters, proof-pile-2's longest node name
    const long = `a-label-of-sixty-characters-${"x".repeat(32)}`
    const bars = barChart([
      { label: name, value: 3 },
      { label: long, value: 1 },
    ])
    const spans = timeline([
      { label: name, start: 0, end: 10, color: "#000" },
      { label: long, start: 5, end: 20, color: "#000" },
    ])
    for (const chart of [bars, spans]) {
      expect(chart).toContain(`>${name}<`)
      expect(chart).toContain(`>${long.slice(0, 39)}…<`)
      expect(chart).toContain(`${long}:`) // the whole label in the tooltip
    }
  })
  it("draws the DAG with a box per node and an edge per input", () => {
    const svg = dagSvg([
      { name: "a", kind: "source", status: "cached", inputs: [] },
      { name: "b", kind: "map", status: "computed", inputs: ["a"] },
      { name: "c<x>", kind: "global", status: "failed", inputs: ["a", "b"] },
    ])
    expect(svg.match(/<a href="#node-[^"]+" class="dag-node">/g)).toHaveLength(3)
    expect(svg.match(/marker-end/g)).toHaveLength(3)
    expect(svg).toContain("c&lt;x&gt;")
    expect(svg).toContain('href="#node-c-x-"') // links to the node's section
    expect(svg).toContain("#a8444f") // failed stroke
    // layered top to bottom: a source above what reads it
    const yOf = (name: string) => Number(new RegExp(`<text x="[\\d.]+" y="([\\d.]+)"[^>]*>${name}</text>`).exec(svg)?.[1])
    expect(yOf("a")).toBeLessThan(yOf("b"))
    expect(yOf("b")).toBeLessThan(yOf("c&lt;x&gt;"))
  })
})

describe("cell constructors", () => {
  it("are plain values with their SQL", () => {
    expect(Cell.histogram("len", "SELECT length(text) FROM self", { bins: 7 })).toEqual({ _tag: "Histogram", title: "len", sql: "SELECT length(text) FROM self", bins: 7 })
    expect(Cell.samples()).toMatchObject({ _tag: "Samples", sql: "SELECT * FROM self LIMIT 3" })
    expect(Cell.bar("t", "q", { x: "a", y: "b" })._tag).toBe("Bar")
  })
})

describe("the report of a demo run", () => {
  const box = sandbox("report")
  const paths = demoInputs(box)
  // Sorted first, so its rows are the report's samples; the short one is dropped and sampled too.
  fs.writeFileSync(path.join(box.dir, "input", "a-hostile.txt"), `A paragraph long enough to be kept, carrying a payload: ${XSS} and more words to pass the filter.\n\n<b>ok</b>`)
  const run = dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.minChars=30", "--json"])
  const s = summary(run)
  const dir = path.join(box.runs, s.run)

  it("is written by `dag run`, whose last human line names it", () => {
    const lines = run.stdout.trim().split("\n")
    expect(lines.at(-2)).toBe(`report ${path.relative(box.dir, path.join(dir, "report.html"))}`)
    expect(fs.existsSync(path.join(dir, "report.md"))).toBe(true)
  })

  it("has the summary, the DAG, a section per node with funnel, samples, causes and node cells", () => {
    const page = fs.readFileSync(path.join(dir, "report.html"), "utf8")
    expect(page).toContain("Content-Security-Policy")
    expect(page).not.toMatch(/<script/i)
    expect(page).not.toMatch(/<img/i)
    expect(page).toContain("&lt;script&gt;window.__xss = 1&lt;/script&gt;")
    expect(page).toContain("&lt;b&gt;ok&lt;/b&gt;") // the dropped sample
    for (const node of ["demo/read", "demo/clean", "demo/words", "demo/top-words", "demo/summary"]) expect(page).toContain(`id="node-${node.replace(/[^a-z0-9]+/g, "-")}"`)
    expect(page).toMatch(/<td><code>minChars<\/code><\/td><td class="nw">30<\/td><td class="nw">40<\/td>/) // params that differ from defaults
    expect(page).toContain('aria-label="pipeline graph"')
    expect(page).toContain("Drop funnel")
    expect(page).toContain("dropped: too-short")
    expect(page).toContain("Sample rows (dropped)")
    expect(page).toContain("Most frequent words") // a node-contributed bar chart
    expect(page).toContain("SELECT word, count FROM demo_top_words ORDER BY count DESC, word LIMIT 15") // its SQL, runnable with dag sql
    expect(page).toContain("Paragraph length after cleaning")
    expect(page).toContain("NEW</b>never computed with this store")
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8")
    expect(md).toMatch(/\| demo\/clean \| computed \| 5\/5 \|/)
    expect(md).not.toContain("<script>window")
    expect(md).toContain("### Most frequent words")
  })

  it("a report rendered from cached query results is the same page; a changed node's queries run again", () => {
    const footer = /<footer>.*?<\/footer>/s
    const render = (name: string, run = s.run) => {
      const out = path.join(box.dir, "again", `${name}.html`)
      const r = dag(box, ["report", "--run", run, "--out", out])
      expect(r.code, r.stderr).toBe(0)
      return fs.readFileSync(out, "utf8")
    }
    // the run's own report kept its results
    expect(derivedEntries(box).length).toBeGreaterThan(0)
    for (const f of derivedEntries(box)) fs.rmSync(f)
    const fresh = render("fresh")
    const queries = Number(/of its (\d+) queries, 0 were answered from earlier reports/.exec(fresh)?.[1])
    expect(queries).toBeGreaterThan(5)
    const again = render("again")
    expect(again).toMatch(new RegExp(`of its ${queries} queries, ${queries} were answered from earlier reports`))
    expect(again.replace(footer, "")).toBe(fresh.replace(footer, ""))
    // a damaged entry is a miss, recomputed and rewritten: one that is not JSON, and one whose value
    // was altered but still parses (its checksum no longer matches)
    const [broken, altered] = derivedEntries(box).filter((f) => /\d/.test((JSON.parse(fs.readFileSync(f, "utf8")) as { value: string }).value))
    fs.writeFileSync(broken!, "{ not json")
    const entry = JSON.parse(fs.readFileSync(altered!, "utf8")) as { value: string }
    const wrong = { ...entry, value: entry.value.replace(/\d/, (d) => String((Number(d) + 1) % 10)) }
    fs.writeFileSync(altered!, JSON.stringify(wrong))
    expect(render("damaged").replace(footer, "")).toBe(fresh.replace(footer, ""))
    expect(() => JSON.parse(fs.readFileSync(broken!, "utf8"))).not.toThrow()
    expect((JSON.parse(fs.readFileSync(altered!, "utf8")) as { value: string }).value).toBe(entry.value)
    // minChars=200 changes demo/clean and what follows it: those queries run, demo/read's are reused
    const other = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.minChars=200", "--json"]))
    const page = fs.readFileSync(path.join(box.runs, other.run, "report.html"), "utf8")
    const [, total, hit] = /of its (\d+) queries, (\d+) were answered/.exec(page)!.map(Number)
    expect(hit).toBeGreaterThan(0)
    expect(hit).toBeLessThan(total!)
    // and the page is the one a report computed from scratch gives
    for (const f of derivedEntries(box)) fs.rmSync(f)
    expect(dag(box, ["report", "--run", other.run]).code).toBe(0)
    const scratch = fs.readFileSync(path.join(box.runs, other.run, "report.html"), "utf8")
    expect(scratch).toMatch(/of its \d+ queries, 0 were answered/)
    expect(page.replace(footer, "")).toBe(scratch.replace(footer, ""))
  })

  it("keeps no rows that may depend on more than the views they name: the clock, the catalog, another node's alias", async () => {
    const { Effect, Either } = await import("effect")
    const { Store } = await import("../engine/store/store.js")
    const { reportQueries } = await import("../engine/report/query-cache.js")
    const store = new Store(box.store)
    const record = readRunRecord(box, s.run)
    const q = reportQueries(store, record, new Set(record.nodes.map((n) => n.node)))
    const run = (sql: string, aliases?: ReadonlyMap<string, string>) => Effect.runPromise(q.query(sql, aliases))
    const entries = () => derivedEntries(box).length
    const clean = await run("SELECT count(*) AS n, 'probe' AS p FROM self", new Map([["self", "demo_clean"]]))
    expect(Either.isRight(clean) && clean.right.rows[0]!.n).toBe(nodeRows(record, "demo/clean"))
    const before = entries()
    // `self` without a target here must not read demo_clean's rows through the alias set above
    const orphan = await run("SELECT count(*) AS n FROM self")
    expect(Either.isLeft(orphan)).toBe(true)
    for (const sql of ["SELECT now() AS t", "SELECT count(*) AS n FROM information_schema.tables", "SELECT 1 AS one", "SELECT random() AS r FROM demo_clean LIMIT 1"]) {
      expect(Either.isRight(await run(sql)), sql).toBe(true)
    }
    expect(entries()).toBe(before)
    q.close()
  })

  it("`dag report` re-renders from the journal, to --out, and --diff compares runs", () => {
    const out = path.join(box.dir, "custom", "r.html")
    fs.mkdirSync(path.dirname(out))
    const r = dag(box, ["report", "--out", out])
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readFileSync(out, "utf8")).toContain("Most frequent words")
    const second = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.minChars=200", "--json"]))
    const diff = dag(box, ["report", "--diff", s.run, "--diff", second.run])
    expect(diff.stdout).toMatch(/demo\/clean: params \{"lowercase":false,"minChars":30\} → \{"lowercase":false,"minChars":200\}/)
    expect(diff.stdout).toMatch(/dropped too-short \d+ → \d+/)
    const cached = readRunRecord(box, summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--param", "demo/clean.minChars=200", "--json"])).run)
    expect(fs.readFileSync(path.join(box.runs, cached.run, "report.html"), "utf8")).toContain("everything was cached")
  })
})
