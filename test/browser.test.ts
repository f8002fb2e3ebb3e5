/**
 * The report in a real browser: Debian's chromium driven by playwright-core. Skipped (not passed)
 * where /usr/bin/chromium is missing; `.ci/run` installs it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dag, demoInputs, sandbox, summary } from "./helpers.js"

const CHROMIUM = "/usr/bin/chromium"
const XSS = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"><svg onload="window.__xss = 3"></svg>`

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
      expect(await page.locator("section.node").count()).toBe(5)
      expect(await page.locator("svg.dag g.dag-node").count()).toBe(5)
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
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  }, 120_000)
})
