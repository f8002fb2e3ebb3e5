/** Golden tests on real pages from ../shared/data (skipped when that folder is absent). */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { owmConfig } from "../../nodes/owm/extract/config.js"
import { extract } from "../../nodes/owm/extract/extract.js"
import { ROOT } from "../helpers.js"

const DATA = path.resolve(ROOT, "..", "shared", "data")
const PAGES = path.join(DATA, "html-pages")
const squash = (s: string) => s.replace(/\s+/g, " ")

describe.skipIf(!fs.existsSync(PAGES))("owm/extract on real pages (../shared/data/html-pages)", () => {
  const expected = fs.existsSync(PAGES) ? (JSON.parse(fs.readFileSync(path.join(PAGES, "expected.json"), "utf8")) as Record<string, { math: Array<string>; must_not_contain: Array<string> }>) : {}
  for (const [page, want] of Object.entries(expected).filter(([k]) => k.endsWith(".html"))) {
    it(`${page}: every expected LaTeX fragment, no listed boilerplate`, () => {
      const r = extract(fs.readFileSync(path.join(PAGES, page), "utf8"), owmConfig())
      if (!r.ok) throw new Error(`skipped: ${r.reason}`)
      const text = squash(r.text)
      const missing = want.math.filter((m) => !text.includes(squash(m)))
      expect(missing, `missing math in ${page}`).toEqual([])
      const leaked = want.must_not_contain.filter((b) => text.includes(b))
      expect(leaked, `boilerplate leaked in ${page}`).toEqual([])
      expect(r.mathFound).toBe(true)
    })
  }
})
