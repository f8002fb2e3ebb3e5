/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The report in a real browser: Debian's chromium driven by playwright-core. Skipped (not passed)
 * where /usr/bin/chromium is missing; `.ci/run` installs it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dag, dagAwait, demoInputs, sandbox, summary } from "./helpers.js"

const CHROMIUM = "/usr/bin/chromium"
const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"><svg onload="window.__xss = 3"></svg>`

/**
 * With every section open: chart labels outside their chart or overlapping each other, and words
 * (up to 24 characters, outside long text columns) split across lines in tables and summaries.
 */
const layoutProblems = (page: import("playwright-core").Page) =>
  page.evaluate(() => {
    for (const d of document.querySelectorAll("details")) d.open = true
    const problems: Array<string> = []
    for (const svg of document.querySelectorAll("svg.chart")) {
      const chart = svg.getBoundingClientRect()
      const name = svg.getAttribute("aria-label")
      const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent!.trim()).map((t) => ({ t: t.textContent!, b: t.getBoundingClientRect() }))
      for (const x of texts)
        if (x.b.left < chart.left - 1 || x.b.right > chart.right + 1 || x.b.top < chart.top - 1 || x.b.bottom > chart.bottom + 1) problems.push(`${name}: "${x.t}" is cut at the chart's edge`)
      for (let i = 0; i < texts.length; i++)
        for (let j = i + 1; j < texts.length; j++) {
          const a = texts[i]!.b
          const b = texts[j]!.b
          if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) problems.push(`${name}: "${texts[i]!.t}" overlaps "${texts[j]!.t}"`)
        }
    }
    const walker = document.createTreeWalker(document.querySelector("main")!, NodeFilter.SHOW_TEXT)
    for (let n = walker.nextNode() as Text | null; n; n = walker.nextNode() as Text | null) {
      if (n.parentElement!.closest("svg, pre, math, td.text, details.more")) continue
      for (const m of n.data.matchAll(/\S+/g)) {
        if (m[0].length > 24) continue
        const range = document.createRange()
        range.setStart(n, m.index!)
        range.setEnd(n, m.index! + m[0].length)
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)))
        if (lines.size > 1) problems.push(`"${m[0]}" breaks across lines in <${n.parentElement!.tagName.toLowerCase()}>`)
      }
    }
    return problems
  })

// In CI the browser is required: a missing chromium fails there instead of skipping.
describe.skipIf(!fs.existsSync(CHROMIUM) && !process.env.CI)("report in headless chromium", () => {
  it("renders the demo report with charts, no console errors, and no script from the data", async () => {
    const { chromium } = await import("playwright-core")
    const box = sandbox("browser")
    const paths = demoInputs(box)
    fs.writeFileSync(path.join(box.dir, "input", "a-hostile.txt"), `A paragraph that is long enough to be kept and that carries ${XSS} inside it.\n\n${XSS}`)
    const s = summary(dag(box, ["run", "demo", "--param", `demo/read.paths=${paths}`, "--json"]))
    const report = path.join(box.runs, s.run, "report.html")
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } })
      const errors: Array<string> = []
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text())
      })
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(`file://${report}`)
      expect(await page.title()).toBe(`demo · run ${s.run}`)
      expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined()
      expect(await page.locator("script").count()).toBe(0)
      expect(await page.locator("img").count()).toBe(0)
      expect(await page.locator("details.node").count()).toBe(5)
      expect(await page.locator("svg.dag a.dag-node").count()).toBe(5)
      const charts = await page.locator("svg.chart").count()
      expect(charts).toBeGreaterThanOrEqual(5) // timeline, funnel, line, histogram, bar
      expect(await page.locator("svg.chart .mark").count()).toBeGreaterThan(20)
      // charts really have size on the page (rendered, not just present)
      const box0 = await page.locator("svg.chart").first().boundingBox()
      expect(box0?.width ?? 0).toBeGreaterThan(300)
      expect(await page.getByText("<script>window.__xss = 1</script>", { exact: false }).count()).toBeGreaterThan(0) // shown as text
      const shot = path.join(box.dir, "report.png")
      await page.screenshot({ path: shot, fullPage: true })
      expect(fs.statSync(shot).size).toBeGreaterThan(20_000)
      console.log(`report screenshot: ${shot}`)
      expect(await layoutProblems(page)).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  }, 120_000)

  it("proof-pile-2's report reads well at 32 nodes: the DAG fits with readable, non-overlapping labels linked to folded sections, math renders, under 10 screens", async () => {
    const { chromium } = await import("playwright-core")
    const box = sandbox("browser-pp2")
    const r = await dagAwait(box, ["run", "proof-pile-2", "--json"])
    expect(r.code, r.stderr).toBe(0)
    const run = (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { run: string }).run
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] })
    try {
      const viewport = { width: 1280, height: 900 }
      const page = await browser.newPage({ viewport })
      const errors: Array<string> = []
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()))
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(`file://${path.join(box.runs, run, "report.html")}`)
      // folded sections: the whole page is a few screens
      const height = await page.evaluate(() => document.documentElement.scrollHeight)
      expect(height).toBeLessThan(10 * viewport.height)
      // the DAG: every node, inside the page's width, drawn at (at least) its natural size
      const dag = await page.evaluate(() => {
        const svg = document.querySelector("svg.dag") as SVGSVGElement
        const box = svg.getBoundingClientRect()
        const main = document.querySelector("main")!.getBoundingClientRect()
        const scale = box.width / svg.viewBox.baseVal.width
        const nodes = [...svg.querySelectorAll("a.dag-node")].map((a) => {
          const rect = a.querySelector("rect")!.getBoundingClientRect()
          const texts = [...a.querySelectorAll("text")].map((t) => ({ box: t.getBoundingClientRect(), size: parseFloat(getComputedStyle(t).fontSize) * scale }))
          return {
            href: a.getAttribute("href")!,
            rect: { x: rect.x, y: rect.y, w: rect.width, h: rect.height },
            texts: texts.map((t) => ({ x: t.box.x, y: t.box.y, w: t.box.width, h: t.box.height, size: t.size })),
          }
        })
        return { width: box.width, mainRight: main.right, mainLeft: main.left, left: box.left, right: box.right, nodes }
      })
      expect(dag.nodes.length).toBe(await page.locator("details.node").count())
      expect(dag.nodes.length).toBeGreaterThanOrEqual(32)
      expect(dag.left).toBeGreaterThanOrEqual(dag.mainLeft - 1)
      expect(dag.right).toBeLessThanOrEqual(dag.mainRight + 1)
      for (const n of dag.nodes) {
        for (const t of n.texts) {
          expect(t.size, n.href).toBeGreaterThanOrEqual(11)
          // each label sits inside its own box
          expect(t.x, n.href).toBeGreaterThanOrEqual(n.rect.x - 0.5)
          expect(t.x + t.w, n.href).toBeLessThanOrEqual(n.rect.x + n.rect.w + 0.5)
        }
      }
      const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
      for (let i = 0; i < dag.nodes.length; i++)
        for (let j = i + 1; j < dag.nodes.length; j++) expect(overlap(dag.nodes[i]!.rect, dag.nodes[j]!.rect), `${dag.nodes[i]!.href} / ${dag.nodes[j]!.href}`).toBe(false)
      // every box links to its node's section
      for (const n of dag.nodes) expect(await page.locator(`details.node${n.href}`).count(), n.href).toBe(1)
      // the OWM funnel follows its documents through extraction, dedup and decontamination, not into signatures
      const funnel = await page.locator('svg[aria-label="documents from owm/warc"] text').allTextContents()
      expect(funnel).toEqual(expect.arrayContaining(["owm/extract", "owm/filter", "dedup/minhash (kept)", "overlap/decontaminate (kept)"]))
      expect(funnel.join(" ")).not.toMatch(/signatures|tokenize/)
      // a summary line per output, never a sum: dedup/minhash shows kept and clusters separately
      expect(await page.locator("details#node-dedup-minhash > summary").innerText()).toMatch(/kept \d+, clusters \d+/)
      // math in the extracted pages renders as MathML once a section is opened
      await page.locator("details#node-owm-extract > summary").click()
      const maths = await page.locator("details#node-owm-extract td math").count()
      expect(maths).toBeGreaterThan(0)
      const mathBox = await page.locator("details#node-owm-extract td math").first().boundingBox()
      expect(mathBox?.width ?? 0).toBeGreaterThan(4)
      // text columns are readable, not squeezed
      const textCell = await page.locator("details#node-owm-extract td.text").first().boundingBox()
      expect(textCell?.width ?? 0).toBeGreaterThanOrEqual(250)
      await page.screenshot({ path: path.join(box.dir, "report-pp2.png"), fullPage: false })
      // labels that fit: none cut, none on top of another, no word broken mid-way
      expect(await layoutProblems(page)).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  }, 300_000)
})
