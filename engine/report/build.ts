/**
 * From a run journal (and the store, read-only) to a report model: one section per node with its
 * params, cache causes, timings, funnel, sample rows and the cells the node contributes. Nothing is
 * recomputed; queries run over the run's committed artifacts in a read-only DuckDB session, or
 * come from an earlier report where nothing they read has changed (query-cache.ts).
 */
import { Effect, Either } from "effect"
import type { RunRecord, NodeLog } from "../journal.js"
import type { AnyNode } from "../node.js"
import { defaultParams } from "../params.js"
import type { Pipeline } from "../pipeline.js"
import { viewName } from "../inspect/views.js"
import type { SqlError } from "../errors.js"
import type { Store } from "../store/store.js"
import { rowAnchor, type Cell } from "./cell.js"

/** The scope of cells that belong to the pipeline rather than to one node. */
export const PIPELINE_SCOPE = "pipeline"
import { barChart, histogram, lineChart, PALETTE, type Series } from "./charts.js"
import { hasMath, mathToHtml } from "./math.js"
import { clip, html, markdownToHtml } from "./escape.js"
import { outputSizes, type MetricValue, type RunSummary } from "../runs.js"
import { reportQueries, type Rows } from "./query-cache.js"
export type { Rows } from "./query-cache.js"

export interface RenderedCell {
  readonly kind: Cell["_tag"]
  readonly title: string
  /** the query as a reader can rerun it with `dag sql` (`self` replaced by the node's view) */
  readonly sql?: string
  /** inline HTML (already escaped) */
  readonly html: string
  /** the data behind the cell, for the Markdown report */
  readonly data?: Rows
  readonly text?: string
  readonly error?: string
}

export interface ParamRow {
  readonly name: string
  readonly value: unknown
  readonly default: unknown
  readonly changed: boolean
}

export interface NodeSection {
  readonly log: NodeLog
  readonly description: string
  readonly params: ReadonlyArray<ParamRow>
  readonly view?: string
  readonly samples?: Rows
  readonly cells: ReadonlyArray<RenderedCell>
  /** rows of each dataset output (a file output: its size), never summed across outputs */
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly rows?: number; readonly bytes?: number }>
}

export interface ReportModel {
  readonly run: RunRecord
  readonly pipelineDescription: string
  /** cells the pipeline itself contributes (summaries across nodes) */
  readonly pipelineCells: ReadonlyArray<RenderedCell>
  readonly sections: ReadonlyArray<NodeSection>
  /** nodes without a section (large pipelines show only what ran, failed, or came first) */
  readonly omitted: number
  readonly inputsOf: ReadonlyMap<string, ReadonlyArray<string>>
  readonly notes: ReadonlyArray<string>
  /** the pipeline's key figures for this run (Pipeline.metrics), in declaration order */
  readonly metrics: ReadonlyArray<{ readonly name: string; readonly value: MetricValue }>
  /** per source node: its documents through each step that keeps their shape (see documentFunnels) */
  readonly funnels: ReadonlyArray<DocumentFunnel>
  /** recent runs of the same pipeline, newest first, this one included: the comparison table */
  readonly history: ReadonlyArray<RunSummary & { readonly report?: string }>
  /** the report's queries: answered from earlier reports (nothing they read changed), and run */
  readonly queries: { readonly cached: number; readonly ran: number }
}

/** Pipelines above this size get sections only for nodes that computed or failed. */
export const FULL_REPORT_NODES = 60

const flatten = (value: unknown, prefix = ""): Array<[string, unknown]> =>
  value && typeof value === "object" && !Array.isArray(value) ? Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k)) : prefix ? [[prefix, value]] : []

const paramRows = (node: AnyNode | undefined, log: NodeLog): Array<ParamRow> => {
  const defaults = new Map(flatten(node ? defaultParams(node.params) : {}))
  return flatten(log.params).map(([name, value]) => ({
    name,
    value,
    default: defaults.get(name),
    changed: defaults.has(name) && JSON.stringify(defaults.get(name)) !== JSON.stringify(value),
  }))
}

/** Runs a report query (undefined: there is nothing to query). */
type Query = (sql: string) => Effect.Effect<Either.Either<Rows, SqlError>>

const numbers = (rows: Rows, column?: string): Array<number> => {
  const c = column ?? rows.columns[0]
  return c === undefined ? [] : rows.rows.map((r) => Number(r[c])).filter(Number.isFinite)
}

export interface RowLinks {
  /** the id this row is a link target for (only the first row with an id gets it) */
  readonly anchorOf?: (row: Record<string, unknown>) => string
  /** the link target of this row's first cell */
  readonly hrefOf?: (row: Record<string, unknown>) => string
}

/**
 * A text cell: math rendered (its LaTeX one click away), and a long text cut with the rest one click
 * away (up to 4,000 characters; the report carries no script, so both are <details>).
 */
const textCell = (v: string, maxCell: number): string => {
  const shown = clip(v, maxCell)
  const rendered = hasMath(shown) ? mathToHtml(shown) : html(shown)
  const more = v.length > maxCell ? `<details class="more"><summary>all ${v.length.toLocaleString("en-US")} characters</summary>${html(clip(v, 4000))}</details>` : ""
  const source = hasMath(shown) ? `<details class="latex"><summary>LaTeX</summary><pre>${html(shown)}</pre></details>` : ""
  return `${rendered}${more}${source}`
}

/** Cells up to this many characters never wrap. */
const SHORT_CELL = 40

export const tableHtml = (data: Rows, maxCell = 240, links: RowLinks = {}): string => {
  if (data.rows.length === 0) return `<p class="empty">no rows</p>`
  const head = data.columns.map((c) => `<th>${html(c)}</th>`).join("")
  const anchored = new Set<string>()
  const body = data.rows
    .map((row) => {
      const id = links.anchorOf?.(row)
      const idAttr = id && !anchored.has(id) ? ` id="${html(id)}"` : ""
      if (id) anchored.add(id)
      const cells = data.columns.map((c, i) => {
        const v = row[c]
        const numeric = typeof v === "number" || typeof v === "bigint"
        const text = html(numeric ? (v as number).toLocaleString("en-US") : clip(v, maxCell))
        // a short value keeps to one line (a name, a path, a date never breaks inside); long text wraps
        const short = !numeric && text.length <= SHORT_CELL && !text.includes("\n") ? ' class="nw"' : ""
        if (i === 0 && links.hrefOf) return `<td${short}>${`<a href="#${html(links.hrefOf(row))}">${text}</a>`}</td>`
        if (numeric || typeof v !== "string") return `<td${numeric ? ' class="num"' : short}>${text}</td>`
        if (v.length > 60) return `<td class="text">${textCell(v, maxCell)}</td>`
        return `<td${hasMath(v) ? "" : short}>${textCell(v, maxCell)}</td>`
      })
      return `<tr${idAttr}>${cells.join("")}</tr>`
    })
    .join("")
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`
}

const tableLinks = (cell: Extract<Cell, { _tag: "Table" }>, scope: string): RowLinks => ({
  ...(cell.anchor
    ? {
        anchorOf: (row) =>
          rowAnchor(
            scope,
            cell.title,
            cell.anchor!.map((c) => row[c])
          ),
      }
    : {}),
  ...(cell.linkTo
    ? {
        hrefOf: (row) =>
          rowAnchor(
            cell.linkTo!.nodeColumn ? String(row[cell.linkTo!.nodeColumn]) : scope,
            cell.linkTo!.title,
            cell.linkTo!.by.map((c) => row[c])
          ),
      }
    : {}),
})

/** A cell of node `scope` (or of the pipeline, where `view` is undefined and queries name views themselves). */
const renderCell = (query: Query | undefined, cell: Cell, view: string | undefined, scope: string, outputViews: ReadonlyMap<string, string> = new Map()): Effect.Effect<RenderedCell> =>
  Effect.gen(function* () {
    if (cell._tag === "Markdown") return { kind: cell._tag, title: "", html: markdownToHtml(cell.text), text: cell.text }
    const shown = view ? cell.sql.replace(/\bself_(\w+)\b/g, (m, out: string) => outputViews.get(out) ?? m).replace(/\bself\b/g, view) : cell.sql
    if (!query || (!view && scope !== PIPELINE_SCOPE))
      return { kind: cell._tag, title: cell.title, sql: shown, html: `<p class="empty">the node has no dataset output in this run</p>`, error: "no output" }
    const r = yield* query(cell.sql)
    if (r._tag === "Left") return { kind: cell._tag, title: cell.title, sql: shown, html: `<p class="error">query failed: ${html(r.left.message)}</p>`, error: r.left.message }
    const data = r.right
    switch (cell._tag) {
      case "Table":
        return { kind: cell._tag, title: cell.title, sql: shown, html: tableHtml({ columns: data.columns, rows: data.rows.slice(0, cell.limit) }, 240, tableLinks(cell, scope)), data }
      case "Samples":
        return { kind: cell._tag, title: cell.title, sql: shown, html: tableHtml({ columns: data.columns, rows: data.rows.slice(0, cell.limit) }), data }
      case "Bar": {
        const bars = data.rows.map((row) => ({ label: String(row[cell.axes.x]), value: Number(row[cell.axes.y]) }))
        return { kind: cell._tag, title: cell.title, sql: shown, html: barChart(bars, { valueLabel: cell.axes.yLabel ?? cell.axes.y, title: cell.title }), data }
      }
      case "Histogram":
        return { kind: cell._tag, title: cell.title, sql: shown, html: histogram(numbers(data), { bins: cell.bins, xLabel: cell.xLabel ?? data.columns[0] ?? "", title: cell.title }), data }
      case "Line": {
        const groups = new Map<string, Array<readonly [number, number]>>()
        for (const row of data.rows) {
          const key = cell.axes.series ? String(row[cell.axes.series]) : cell.axes.y
          const list = groups.get(key) ?? []
          list.push([Number(row[cell.axes.x]), Number(row[cell.axes.y])])
          groups.set(key, list)
        }
        const series: Array<Series> = [...groups].map(([name, points]) => ({ name, points }))
        return {
          kind: cell._tag,
          title: cell.title,
          sql: shown,
          html: lineChart(series, { xLabel: cell.axes.xLabel ?? cell.axes.x, yLabel: cell.axes.yLabel ?? cell.axes.y, title: cell.title }),
          data,
        }
      }
    }
  })

/** The drop-reason funnel of a node: rows kept (its main output), then each reason, as bars. */
export const funnelChart = (log: NodeLog, outputs: ReadonlyArray<{ readonly name: string; readonly rows?: number }> = []): string => {
  const reasons = Object.entries(log.dropped).sort((a, b) => b[1] - a[1])
  if (reasons.length === 0) return ""
  const main = outputs.find((o) => o.name === "out" || o.name === "kept")
  const kept = main?.rows ?? Math.max(0, log.rows.in - reasons.reduce((a, [, n]) => a + n, 0))
  return barChart([{ label: "kept", value: kept, color: PALETTE[2] }, ...reasons.map(([label, value]) => ({ label: `dropped: ${label}`, value, color: PALETTE[3] }))], {
    valueLabel: "rows",
    title: `${log.node} drop funnel`,
  })
}

export interface DocumentFunnel {
  readonly source: string
  readonly readRows: number
  readonly steps: ReadonlyArray<{ readonly label: string; readonly rows: number; readonly failed: boolean }>
}

/**
 * Where each source's documents go: from the source, step by step through the downstream node whose
 * output carries on most of the documents' columns (at least half: extraction turns HTML into text
 * but keeps id, url and record id; a dedup's or decontamination's `kept` keeps them all). A step
 * that makes something else of the documents (signatures, token ids), splits them into several
 * like outputs, or ties with another step ends the chain, so every bar counts the same documents.
 */
export const documentFunnels = (store: Store, run: RunRecord, wiresOf: ReadonlyMap<string, ReadonlyArray<{ readonly node: string; readonly output: string }>>): ReadonlyArray<DocumentFunnel> => {
  const manifest = (log: NodeLog, output: string) => {
    const id = log.outputs[output]
    const m = id ? store.outputManifest(id, log.key, output) : undefined
    return m?.kind === "dataset" ? m : undefined
  }
  const columns = (log: NodeLog, output: string) => new Set(manifest(log, output)?.columns.map((c) => c.name) ?? [])
  const funnels: Array<DocumentFunnel> = []
  for (const source of run.nodes.filter((n) => n.kind === "source")) {
    const steps: Array<{ label: string; rows: number; failed: boolean }> = [{ label: source.node, rows: source.rows.out, failed: source.status === "failed" }]
    let last = { log: source, output: "out" }
    for (;;) {
      const have = columns(last.log, last.output)
      if (have.size === 0) break
      const share = (log: NodeLog, output: string) => [...columns(log, output)].filter((c) => have.has(c)).length / have.size
      const next = run.nodes.flatMap((n) => {
        // it must read the very output followed so far (not a sibling such as a dedup's `dropped`)
        if (!(wiresOf.get(n.node) ?? []).some((w) => w.node === last.log.node && w.output === last.output)) return []
        const scored = Object.keys(n.outputs)
          .map((o) => ({ output: o, score: share(n, o) }))
          .filter((x) => x.score >= 0.5)
          .sort((a, b) => b.score - a.score)
        const best = scored.filter((x) => x.score === scored[0]?.score)
        const output = best.length === 1 ? best[0]!.output : best.some((x) => x.output === "kept") ? "kept" : undefined
        return output ? [{ log: n, output, score: scored[0]!.score }] : []
      })
      const top = next.filter((x) => x.score === Math.max(...next.map((y) => y.score)))
      if (top.length !== 1) break
      const step = top[0]!
      const outputs = Object.keys(step.log.outputs).length
      steps.push({ label: outputs > 1 ? `${step.log.node} (${step.output})` : step.log.node, rows: manifest(step.log, step.output)?.rows ?? 0, failed: step.log.status === "failed" })
      last = step
    }
    if (steps.length >= 2) funnels.push({ source: source.node, readRows: source.rows.in, steps })
  }
  return funnels
}

export const buildReport = (store: Store, run: RunRecord, pipeline: Pipeline | undefined): Effect.Effect<ReportModel> =>
  Effect.gen(function* () {
    const nodes = new Map((pipeline?.nodes ?? []).map((pn) => [pn.node.name, pn]))
    const chosen = run.nodes.length <= FULL_REPORT_NODES ? run.nodes : run.nodes.filter((n) => n.status === "failed" || n.status === "computed" || n.status === "partial").slice(0, FULL_REPORT_NODES)
    const notes: Array<string> = []
    if (!pipeline) notes.push(`pipeline "${run.pipeline}" could not be loaded now; node descriptions, defaults and node cells are missing`)
    const withData = chosen.filter((n) => Object.keys(n.outputs).length > 0)
    // the key figures may read any node's views, also those without a section
    const viewed = pipeline?.metrics ? run.nodes : withData
    const queries = withData.length > 0 ? reportQueries(store, run, new Set(viewed.map((n) => n.node))) : undefined
    const sections: Array<NodeSection> = []
    for (const log of chosen) {
      const node = nodes.get(log.node)?.node
      const outputs = Object.keys(log.outputs)
      const own = (queries?.views ?? []).filter((v) => v.node === log.node)
      const firstDataset = own[0]
      const view = firstDataset?.name ?? (outputs.length ? viewName(log.node, outputs[0]!, outputs.length) : undefined)
      let samples: Rows | undefined
      const cells: Array<RenderedCell> = []
      // `self` is the node's first dataset output; `self_<output>` names each of a node with several
      const aliases = new Map(firstDataset ? [["self", firstDataset.name], ...own.map((v) => [`self_${v.output}`, v.name] as const)] : [])
      const nodeQuery: Query | undefined = queries && firstDataset ? (sql) => queries.query(sql, aliases) : undefined
      if (nodeQuery && firstDataset) {
        const r = yield* nodeQuery(`SELECT * FROM "${firstDataset.name}" LIMIT 3`)
        if (Either.isRight(r)) samples = r.right
      }
      const outputViews = new Map(own.map((v) => [v.output, v.name]))
      for (const cell of node?.report ?? []) cells.push(yield* renderCell(nodeQuery, cell, firstDataset?.name, log.node, outputViews))
      sections.push({ log, description: node?.description ?? "", params: paramRows(node, log), ...(view ? { view } : {}), ...(samples ? { samples } : {}), cells, outputs: outputSizes(store, log) })
    }
    // the pipeline's own cells query the nodes' views by name, across nodes
    const pipelineQuery: Query | undefined = queries ? (sql) => queries.query(sql) : undefined
    const pipelineCells: Array<RenderedCell> = []
    for (const cell of pipeline?.report ?? []) pipelineCells.push(yield* renderCell(pipelineQuery, cell, undefined, PIPELINE_SCOPE))
    const metrics: Array<{ name: string; value: MetricValue }> = []
    for (const [name, sql] of Object.entries(pipeline?.metrics ?? {})) {
      // a figure whose nodes did not run (a --select run, a failure) is missing, not an error
      const r = pipelineQuery ? yield* pipelineQuery(sql) : undefined
      const first = r && Either.isRight(r) ? r.right.rows[0] : undefined
      const v = first ? Object.values(first)[0] : undefined
      const n = typeof v === "bigint" ? Number(v) : v
      metrics.push({ name, value: typeof n === "string" ? n : typeof n === "number" && Number.isFinite(n) ? n : null })
    }
    queries?.close()
    const openError = queries?.openError()
    if (openError) notes.push(`sample rows and node cells are missing: ${openError}`)
    const wiresOf = new Map((pipeline?.nodes ?? []).map((pn) => [pn.node.name, Object.values(pn.inputs)]))
    const inputsOf = new Map([...wiresOf].map(([name, wires]) => [name, wires.map((w) => w.node)]))
    return {
      run,
      pipelineDescription: pipeline?.description ?? "",
      pipelineCells,
      sections,
      omitted: run.nodes.length - sections.length,
      inputsOf,
      notes,
      metrics,
      funnels: documentFunnels(store, run, wiresOf),
      history: [],
      queries: queries?.counts() ?? { cached: 0, ran: 0 },
    }
  })
