/** Writes runs/<id>/report.html and report.md for a run (atomically), returning the HTML path. */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { RunRecord } from "../journal.js"
import type { Pipeline } from "../pipeline.js"
import { redactUrlCredentials, writeFileAtomic } from "../store/fsx.js"
import type { Store } from "../store/store.js"
import { METRICS_FILE, readMetrics, recentRuns } from "../runs.js"
import { buildReport } from "./build.js"
import { renderHtml } from "./html.js"
import { renderMarkdown } from "./markdown.js"

/** How many recent runs of the pipeline the report's comparison table shows. */
const HISTORY_RUNS = 10

export interface WrittenReport {
  readonly html: string
  readonly markdown: string
  readonly bytes: number
  readonly ms: number
}

export const writeReport = (store: Store, runsDir: string, run: RunRecord, pipeline: Pipeline | undefined, out?: string): Effect.Effect<WrittenReport> =>
  Effect.gen(function* () {
    const started = Date.now()
    const built = yield* buildReport(store, run, pipeline)
    const dir = path.join(runsDir, run.run)
    // the figures first: the history table below reads them back from every run, this one included
    // a figure that cannot be read now (its shards collected by `dag gc`) keeps the value recorded before
    const recorded = readMetrics(runsDir, run.run)
    const metrics = built.metrics.map((m) => ({ name: m.name, value: m.value ?? recorded[m.name] ?? null }))
    if (metrics.length > 0) {
      fs.mkdirSync(dir, { recursive: true })
      writeFileAtomic(path.join(dir, ".tmp"), path.join(dir, METRICS_FILE), JSON.stringify({ run: run.run, metrics: Object.fromEntries(metrics.map((m) => [m.name, m.value])) }), false)
    }
    // links to the other runs' reports hold where reports sit side by side (runs/<id>/report.html)
    const history = recentRuns(runsDir, run.pipeline, HISTORY_RUNS, run.run).map((h) =>
      out === undefined && fs.existsSync(path.join(runsDir, h.run, "report.html")) ? { ...h, report: `../${h.run}/report.html` } : h
    )
    const model = { ...built, metrics, history }
    const htmlPath = out ?? path.join(dir, "report.html")
    const mdPath = htmlPath.replace(/\.html?$/, "") + ".md"
    const page = renderHtml(model, Date.now() - started)
    const tmp = path.join(dir, ".tmp")
    writeFileAtomic(tmp, htmlPath, redactUrlCredentials(page), false)
    writeFileAtomic(tmp, mdPath, redactUrlCredentials(renderMarkdown(model)), false)
    fs.rmSync(tmp, { recursive: true, force: true })
    return { html: htmlPath, markdown: mdPath, bytes: Buffer.byteLength(page), ms: Date.now() - started }
  })
