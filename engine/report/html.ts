/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no script, no network), with a
 * Content-Security-Policy that forbids scripts, so hostile text from scraped pages can only show.
 */
import type { NodeLog } from "../journal.js"
import { formatMetric, metricNamesOf, type RunSummary } from "../runs.js"
import { barChart, PALETTE, timeline, type Span } from "./charts.js"
import { anchorOf, dagSvg, STATUS_COLORS } from "./dag.js"
import { clip, html } from "./escape.js"
import { funnelChart, tableHtml, type NodeSection, type RenderedCell, type ReportModel } from "./build.js"

export const CSS = `
:root { --ink:#1f2933; --muted:#616e7c; --rule:#e4e7eb; --paper:#fdfdfc; --accent:#3b6ea5; }
* { box-sizing: border-box; }
body { margin:0; background:var(--paper); color:var(--ink); font:15px/1.55 Charter, "Iowan Old Style", Georgia, serif; }
main { max-width: 980px; margin: 0 auto; padding: 40px 28px 80px; }
h1,h2,h3,h4,.badge,.tiles,table,.meta,nav,figcaption,summary,.cause { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 0; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 22px 0 8px; }
.meta { color: var(--muted); font-size: 13px; }
.lede { font-size: 17px; color: #3e4c59; margin: 8px 0 0; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; margin: 24px 0; }
.tile { border: 1px solid var(--rule); border-radius: 8px; padding: 10px 12px; background: #fff; }
.tile b { display: block; font-size: 22px; font-weight: 600; }
.tiles.metrics { grid-template-columns: repeat(auto-fit, minmax(88px, 1fr)); gap: 8px; margin-top: -12px; }
.tiles.metrics .tile { padding: 8px 10px; }
.tiles.metrics b { font-size: 17px; }
.tile span { color: var(--muted); font-size: 12px; }
.cell { margin: 28px 0; page-break-inside: avoid; }
details.node { border-top: 1px solid var(--rule); padding: 8px 0; }
details.node[open] { padding-bottom: 24px; }
details.node > summary { list-style: none; cursor: pointer; color: var(--ink); font-size: 15px; }
details.node > summary::-webkit-details-marker { display: none; }
details.node > summary::before { content: "▸"; color: var(--muted); width: 14px; display: inline-block; }
details.node[open] > summary::before { content: "▾"; }
details.node h2 { font-size: 16px; display: inline; }
.summary-line { color: var(--muted); font-size: 13px; }
.node-head { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.dag-node:hover rect { stroke-width: 2.6; }
td { min-width: 6em; }
td.text { min-width: 280px; }
details.more, details.latex { margin-top: 4px; }
math { font-size: 1.05em; }
.kind { color: var(--muted); font-size: 13px; font-family: system-ui, sans-serif; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 10px; border: 1px solid; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px 28px; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { font-weight: 600; color: var(--muted); background: #f7f8f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.current td { background: #f6f8fa; font-weight: 600; }
tr.changed td { background: #fff6e0; }
.table-wrap { overflow-x: auto; }
td { max-width: 420px; overflow-wrap: break-word; white-space: pre-wrap; }
td.nw, td.num, th { white-space: nowrap; }
td.text { overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f5f7fa; border: 1px solid var(--rule); border-radius: 6px; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; }
details summary { cursor: pointer; color: var(--accent); font-size: 12px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
svg.chart { width: 100%; max-width: 700px; height: auto; display: block; }
svg.dag { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.dag-wrap { overflow-x: auto; border: 1px solid var(--rule); border-radius: 8px; padding: 10px; background: #fff; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font: 12px system-ui, sans-serif; color: var(--muted); margin-top: 8px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; border: 1.5px solid; vertical-align: -2px; margin-right: 4px; }
.cause { font-size: 13px; margin: 2px 0; }
.cause b { display: inline-block; min-width: 104px; font-size: 11px; letter-spacing: .04em; color: var(--muted); }
.empty, .note { color: var(--muted); font-style: italic; }
.error { color: #a8444f; }
nav { font-size: 13px; columns: 3 200px; margin: 10px 0 0; }
nav a { color: var(--accent); text-decoration: none; display: block; }
footer { margin-top: 60px; color: var(--muted); font-size: 12px; font-family: system-ui, sans-serif; }
@media print { body { background: #fff; } main { padding: 0; } details { display: block; } details > summary { display: none; } section.node { page-break-before: auto; } a { color: inherit; } }
`

const badge = (status: string) => {
  const c = STATUS_COLORS[status] ?? STATUS_COLORS.pending!
  return `<span class="badge" style="background:${c.fill};border-color:${c.stroke};color:#1f2933">${html(c.label)}</span>`
}

const runBadge = (status: string) => {
  const c = STATUS_COLORS[status === "ok" ? "computed" : status === "failed" ? "failed" : "partial"]!
  return `<span class="badge" style="background:${c.fill};border-color:${c.stroke};color:#1f2933">${html(status)}</span>`
}

const seconds = (ms: number | undefined) => (ms === undefined ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`)
const num = (n: number) => n.toLocaleString("en-US")

/** A param value's cell: on one line when short (a path never breaks at its slashes), wrapped when long. */
const valueTd = (v: unknown) => {
  const text = clip(v, 120)
  return `<td${text.length <= 40 ? ' class="nw"' : ""}>${html(text)}</td>`
}
const cellHtml = (c: RenderedCell): string => `<div class="cell">${c.title ? `<h3>${html(c.title)}</h3>` : ""}${c.html}${sqlBlock(c.sql)}</div>`

const anchor = anchorOf

const sqlBlock = (sql: string | undefined) => (sql ? `<details><summary>SQL (rerun with <code>dag sql</code>)</summary><pre>${html(sql)}</pre></details>` : "")

const causesHtml = (log: NodeLog) => {
  if (log.status === "cached") return `<p class="cause">Cache hit: the key matched a committed result${log.key ? ` (<code>${html(log.key.slice(0, 12))}</code>)` : ""}.</p>`
  if (log.causes.length === 0) return `<p class="cause">${log.status === "skipped" ? "Not run: an upstream node failed." : "—"}</p>`
  return log.causes.map((c) => `<p class="cause"><b>${html(c.category)}</b>${html(c.detail)}</p>`).join("")
}

const droppedHtml = (log: NodeLog) => {
  const entries = Object.entries(log.droppedSamples ?? {})
  if (entries.length === 0) return ""
  return entries
    .map(([reason, rows]) => {
      const cols = [...new Set(rows.flatMap((r) => (r && typeof r === "object" ? Object.keys(r) : ["value"])))]
      const data = { columns: cols, rows: rows.map((r) => (r && typeof r === "object" ? (r as Record<string, unknown>) : { value: r })) }
      return `<h4 class="meta">dropped: ${html(reason)} (${num(log.dropped[reason] ?? rows.length)} rows; ${rows.length} shown)</h4>${tableHtml(data, 200)}`
    })
    .join("")
}

const sectionHtml = (s: NodeSection): string => {
  const log = s.log
  const params = s.params.length
    ? `<table><thead><tr><th>param</th><th>value</th><th>default</th></tr></thead><tbody>${s.params
        .map((p) => `<tr${p.changed ? ' class="changed"' : ""}><td><code>${html(p.name)}</code></td>${valueTd(p.value)}${valueTd(p.default)}</tr>`)
        .join("")}</tbody></table>`
    : `<p class="empty">no params</p>`
  const shards = log.shards.total
    ? `${num(log.shards.computed)} computed, ${num(log.shards.cached)} cached${log.shards.failed ? `, ${num(log.shards.failed)} failed` : ""} of ${num(log.shards.total)}`
    : "—"
  const retried = log.shardLog.filter((x) => x.attempts > 1).length
  const clusterJobs = [...new Set(log.shardLog.flatMap((x) => (x.job ? [x.job] : [])))]
  const stats = `<table><tbody>
<tr><td>rows in → out</td><td class="num">${num(log.rows.in)} → ${num(log.rows.out)}</td></tr>
<tr><td>shards</td><td class="num">${shards}</td></tr>
<tr><td>time</td><td class="num">${seconds(log.ms)}</td></tr>
${retried ? `<tr><td>retried shards</td><td class="num">${retried}</td></tr>` : ""}
${clusterJobs.length ? `<tr><td>Slurm tasks</td><td><code>${html(clusterJobs.length > 6 ? `${clusterJobs.slice(0, 6).join(" ")} … (${clusterJobs.length})` : clusterJobs.join(" "))}</code></td></tr>` : ""}
${s.view ? `<tr><td>SQL view</td><td><code>${html(s.view)}</code></td></tr>` : ""}
</tbody></table>`
  const errors = log.errors.length ? `<h3>Errors</h3>${log.errors.map((e) => `<pre class="error">${html(e)}</pre>`).join("")}` : ""
  const messages = log.messages?.length ? `<h3>Log</h3><pre>${html(log.messages.join("\n"))}</pre>` : ""
  const funnel = funnelChart(log, s.outputs)
  const cells = s.cells.map(cellHtml).join("")
  // a failed node opens by itself: it is what the reader came for
  return `<details class="node" id="${anchor(log.node)}"${log.status === "failed" ? " open" : ""}>
<summary class="node-head"><h2>${html(log.node)}</h2><span class="kind">${html(log.kind)}</span>${badge(log.status)}<span class="summary-line">${html(summaryLine(s))}</span></summary>
${s.description ? `<p class="lede">${html(s.description)}</p>` : ""}
<div class="grid"><div><h3>Params</h3>${params}</div><div><h3>Cache</h3>${causesHtml(log)}<h3>Work</h3>${stats}</div></div>
${errors}
${messages}
${funnel ? `<div class="cell"><h3>Drop funnel</h3>${funnel}</div>` : ""}
${s.samples ? `<div class="cell"><h3>Sample rows (kept)</h3>${tableHtml(s.samples)}${sqlBlock(`SELECT * FROM ${s.view} LIMIT 3`)}</div>` : ""}
${droppedHtml(log) ? `<div class="cell"><h3>Sample rows (dropped)</h3>${droppedHtml(log)}</div>` : ""}
${cells}
</details>`
}

/** One line a collapsed section shows: rows per output (never summed), drops, time. */
const summaryLine = (s: NodeSection): string => {
  const log = s.log
  const outs = s.outputs.map((o) =>
    o.rows !== undefined
      ? s.outputs.length === 1
        ? `${num(o.rows)} ${o.rows === 1 ? "row" : "rows"}`
        : `${o.name} ${num(o.rows)}`
      : `${o.name} (file${o.bytes !== undefined ? `, ${num(o.bytes)} bytes` : ""})`
  )
  const dropped = Object.values(log.dropped).reduce((a, b) => a + b, 0)
  return [outs.join(", "), dropped ? `${num(dropped)} dropped` : "", seconds(log.ms)].filter(Boolean).join(" · ")
}

/**
 * Documents through each source's chain of row-by-row (map) nodes: what the source read, then what
 * each step kept. One chart per source, in the same unit throughout; the token, training and
 * evaluation nodes (global, other units) have their own sections.
 */
/** One bar chart per source: the documents it read, then kept by each step (see documentFunnels). */
const sourceFunnels = (funnels: ReportModel["funnels"]): string =>
  funnels
    .map((f) => {
      const bars = [{ label: "read", value: f.readRows, color: PALETTE[4] }, ...f.steps.map((st) => ({ label: st.label, value: st.rows, color: st.failed ? "#a8444f" : PALETTE[0] }))]
      return `<div class="cell"><h3>Documents from ${html(f.source)}</h3>${barChart(bars, { valueLabel: "rows kept by each step", title: `documents from ${f.source}` })}</div>`
    })
    .join("")

const queryNote = (q: ReportModel["queries"]): string =>
  q.cached + q.ran === 0 ? "" : `; of its ${q.cached + q.ran} queries, ${q.cached} were answered from earlier reports (nothing they read had changed)`

export const renderHtml = (m: ReportModel, renderMs?: number): string => {
  const r = m.run
  const count = (st: string) => r.nodes.filter((n) => n.status === st).length
  const shardsComputed = r.nodes.reduce((a, n) => a + n.shards.computed, 0)
  const shardsCached = r.nodes.reduce((a, n) => a + n.shards.cached, 0)
  const changed = m.sections.flatMap((s) => s.params.filter((p) => p.changed).map((p) => ({ node: s.log.node, ...p })))
  const t0 = Date.parse(r.startedAt)
  const spans: Array<Span> = r.nodes
    .filter((n) => n.startedAt && n.endedAt && n.status !== "cached")
    .map((n) => ({ label: n.node, start: Date.parse(n.startedAt!) - t0, end: Date.parse(n.endedAt!) - t0, color: (STATUS_COLORS[n.status] ?? STATUS_COLORS.pending!).stroke }))
  const dag =
    r.nodes.length <= 80
      ? `<div class="dag-wrap">${dagSvg(r.nodes.map((n) => ({ name: n.node, kind: n.kind, status: n.status, inputs: m.inputsOf.get(n.node) ?? [] })))}</div>
<div class="legend">${Object.entries(STATUS_COLORS)
          .filter(([k]) => ["cached", "computed", "partial", "failed", "skipped"].includes(k))
          .map(([, c]) => `<span><i style="background:${c.fill};border-color:${c.stroke}"></i>${html(c.label)}</span>`)
          .join("")}</div>`
      : `<p class="note">${num(r.nodes.length)} nodes are too many to draw; see <code>dag graph ${html(r.pipeline)}</code>.</p>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(`${r.pipeline} · run ${r.run}`)}</title>
<style>${CSS}</style></head>
<body><main>
<p class="meta">mathdag run report</p>
<h1>${html(r.pipeline)} ${runBadge(r.status)}</h1>
<p class="meta">run <code>${html(r.run)}</code> · started ${html(r.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC"))} · ${seconds(r.ms)} · profile ${html(r.profile)} · host ${html(r.host)}</p>
${m.pipelineDescription ? `<p class="lede">${html(m.pipelineDescription)}</p>` : ""}
<div class="tiles">
<div class="tile"><b>${num(r.nodes.length)}</b><span>nodes</span></div>
<div class="tile"><b>${num(count("computed") + count("partial"))}</b><span>computed</span></div>
<div class="tile"><b>${num(count("cached"))}</b><span>cached</span></div>
<div class="tile"><b>${num(count("failed"))}</b><span>failed</span></div>
<div class="tile"><b>${num(shardsComputed)} / ${num(shardsComputed + shardsCached)}</b><span>shards computed</span></div>
<div class="tile"><b>${seconds(r.ms)}</b><span>wall time</span></div>
</div>
${m.metrics.length ? `<div class="tiles metrics">${m.metrics.map((x) => `<div class="tile"><b>${html(formatMetric(x.value))}</b><span>${html(x.name)}</span></div>`).join("")}</div>` : ""}
${m.notes.map((n) => `<p class="note">${html(n)}</p>`).join("")}
<div class="cell"><h3>Params that differ from defaults</h3>${
    changed.length
      ? `<table><thead><tr><th>node</th><th>param</th><th>value</th><th>default</th></tr></thead><tbody>${changed.map((c) => `<tr><td class="nw">${html(c.node)}</td><td><code>${html(c.name)}</code></td>${valueTd(c.value)}${valueTd(c.default)}</tr>`).join("")}</tbody></table>`
      : `<p class="empty">none — every param has its default${r.overrides.length ? ` (flags: ${html(r.overrides.join(" "))})` : ""}</p>`
  }</div>
<div class="cell"><h3>Pipeline</h3>${dag}</div>
${sourceFunnels(m.funnels)}
<div class="cell"><h3>Timeline</h3>${spans.length ? timeline(spans) : `<p class="empty">everything was cached: nothing ran</p>`}</div>
${m.pipelineCells.map(cellHtml).join("")}
${m.history.length > 1 ? `<div class="cell"><h3>Recent runs of ${html(r.pipeline)}</h3><p class="meta">Key figures and params of this run and the ones before it, newest first (\`dag runs --pipeline ${html(r.pipeline)}\`).</p>${runsTable(m.history, r.run)}</div>` : ""}
<h3>Nodes</h3><p class="meta">One section per node, folded to its summary line; open one for its params, cache decision, samples and charts (the graph's boxes link here).</p>
${m.sections.map(sectionHtml).join("\n")}
${m.omitted ? `<p class="note">${num(m.omitted)} more nodes (all cached) have no section; \`dag status --run ${html(r.run)}\` lists them.</p>` : ""}
<footer>Generated by mathdag from <code>runs/${html(r.run)}/run.json</code>${renderMs !== undefined ? ` in ${renderMs} ms` : ""}${queryNote(m.queries)}. Nothing was recomputed to make this page.</footer>
</main></body></html>
`
}

/** A run in a runs table: its summary, and where its report is relative to the page (when it has one). */
export type RunRow = RunSummary & { readonly report?: string }

/**
 * Runs side by side: status, time, node counts, the params set with --param and each key figure
 * (the union of the runs' metric names, in first-seen order), the `current` run marked.
 */
export const runsTable = (rows: ReadonlyArray<RunRow>, current?: string): string => {
  const metricNames = metricNamesOf(rows)
  const head = ["run", "pipeline", "status", "started", "time", "computed", "cached", "failed", ...metricNames, "params"]
  const body = rows.map((r) => {
    const id = `<code>${html(r.run)}</code>${r.run === current ? " (this run)" : ""}`
    const cells = [r.report && r.run !== current ? `<a href="${html(r.report)}">${id}</a>` : id, html(r.pipeline), runBadge(r.status), html(r.started.replace("T", " ").slice(0, 19))]
    const nums = [r.ms === null ? "—" : seconds(r.ms), num(r.computed), num(r.cached), num(r.failed), ...metricNames.map((m) => html(formatMetric(r.metrics[m])))]
    return `<tr${r.run === current ? ' class="current"' : ""}>${cells.map((c) => `<td class="nw">${c}</td>`).join("")}${nums.map((c) => `<td class="num">${c}</td>`).join("")}<td>${r.params.map((p) => `<code>${html(p)}</code>`).join("<br>")}</td></tr>`
  })
  return `<div class="table-wrap"><table><thead><tr>${head.map((h) => `<th>${html(h)}</th>`).join("")}</tr></thead><tbody>\n${body.join("\n")}\n</tbody></table></div>`
}

/** The table `dag runs` prints, as a page: one row per run, each linking to its report. */
export const runsPage = (rows: ReadonlyArray<RunRow>): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mathdag runs</title><style>${CSS}</style></head>
<body><main>
<p class="meta">mathdag</p><h1>Runs</h1>
<p class="meta">${num(rows.length)} runs, newest first. Each links to its report; the figures are each pipeline's key metrics.</p>
${runsTable(rows)}
<footer>Generated by <code>dag runs --html</code> from the runs' journals.</footer>
</main></body></html>
`
