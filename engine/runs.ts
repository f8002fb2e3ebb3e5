/**
 * Which run a command means. `--run` takes a run id, a unique prefix of one, `latest` or
 * `latest~N` (N runs before the latest). Without it, commands that read results take the latest
 * *successful* run that has what they ask for (a node's outputs, the views a query names, a
 * pipeline), so a failed typo run or another pipeline's run never hides the results a user means.
 */
import * as path from "node:path"
import { viewName } from "./inspect/views.js"
import { listRuns, readRun, type NodeLog, type RunRecord } from "./journal.js"
import { readMetadata, RunMetricsSchema } from "./store/metadata.js"
import type { Store } from "./store/store.js"

export interface RunWanted {
  /** only runs of this pipeline */
  readonly pipeline?: string
  /** only runs that finished ok (default true) */
  readonly ok?: boolean
  /** only runs holding this node's outputs */
  readonly node?: string
  /** only runs holding every one of these `dag sql` views that some run has */
  readonly views?: ReadonlyArray<string>
  /** only runs this says yes to (what a command needs beyond the above) */
  readonly accept?: (run: RunRecord) => boolean
  /** what `accept` looks for, for the message when no run has it */
  readonly acceptWhat?: string
}

/** The `dag sql` views of a run's outputs. */
export const viewsOf = (run: RunRecord): ReadonlyArray<string> =>
  run.nodes.flatMap((n) => {
    const outs = Object.keys(n.outputs)
    return outs.map((o) => viewName(n.node, o, outs.length))
  })

/** Identifiers in a SQL text (candidates for view names). */
export const identifiersIn = (sql: string): ReadonlyArray<string> => [...new Set(sql.replace(/'(?:[^']|'')*'/g, "''").match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])]

const describe = (w: RunWanted): string =>
  [w.ok === false ? "run" : "successful run", w.pipeline ? `of ${w.pipeline}` : "", w.node ? `with outputs of ${w.node}` : "", w.acceptWhat ?? ""].filter(Boolean).join(" ")

/** The run a `--run` value (or its absence) names, or a message saying what is there instead. */
export const resolveRun = (runsDir: string, spec: string | undefined, wanted: RunWanted = {}): RunRecord | { readonly error: string } => {
  const ids = listRuns(runsDir)
  const latest = spec === undefined || /^latest(~\d+)?$/.test(spec)
  if (!latest) {
    const exact = ids.includes(spec) ? [spec] : ids.filter((id) => id.startsWith(spec))
    if (exact.length === 1) {
      const r = readRun(runsDir, exact[0]!)
      return r ?? { error: `run ${exact[0]} has no readable journal (see \`dag doctor\`)` }
    }
    if (exact.length > 1) return { error: `--run ${spec} matches ${exact.length} runs (${exact.slice(-5).join(", ")}${exact.length > 5 ? ", …" : ""}); give more of the id` }
    return { error: ids.length ? `no run "${spec}" in ${runsDir}; see \`dag runs\`` : `no runs yet in ${runsDir}` }
  }
  const back = spec && spec.includes("~") ? Number(spec.split("~")[1]) : 0
  // Journals are read newest first and only as far as needed: an old damaged one is not even
  // opened when a newer run answers.
  const viewLike = (wanted.views ?? []).filter((v) => v.includes("_"))
  const fits: Array<RunRecord> = []
  const full: Array<RunRecord> = []
  let newest: RunRecord | undefined
  let newestOfPipeline: RunRecord | undefined
  let read = 0
  for (let i = ids.length - 1; i >= 0 && full.length <= back; i--) {
    const r = readRun(runsDir, ids[i]!)
    if (!r || r.dryRun) continue
    read++
    newest ??= r
    if (wanted.pipeline && r.pipeline !== wanted.pipeline) continue
    newestOfPipeline ??= r
    if (wanted.ok !== false && r.status !== "ok") continue
    if (wanted.node && !r.nodes.some((n) => n.node === wanted.node && Object.keys(n.outputs).length > 0)) continue
    if (wanted.accept && !wanted.accept(r)) continue
    fits.push(r)
    // a query's views: the newest run holding every view-like name it uses (else the newest that fits)
    if (viewLike.every((v) => viewsOf(r).includes(v))) full.push(r)
  }
  const hit = full[back] ?? (full.length === 0 ? fits[back] : undefined)
  if (hit) return hit
  if (read === 0) return { error: `no runs yet in ${runsDir}; start one with \`dag run PIPELINE\`` }
  if (fits.length > 0) return { error: `--run ${spec}: there are only ${fits.length} ${describe(wanted)}(s)` }
  const latestSeen = newestOfPipeline ?? newest!
  return {
    error: `no ${describe(wanted)} yet; the latest${wanted.pipeline ? "" : ` (pipeline ${latestSeen.pipeline})`} is ${latestSeen.run}, ${latestSeen.status}: see \`dag status --run ${latestSeen.run}\``,
  }
}

/** A metric's value: a number, a string, or null when its query found nothing or failed. */
export type MetricValue = number | string | null

export const METRICS_FILE = "metrics.json"

/** The key figures recorded with a run's report (empty when its pipeline declares none). */
export const readMetrics = (runsDir: string, run: string): Readonly<Record<string, MetricValue>> =>
  readMetadata(path.join(runsDir, run, METRICS_FILE), RunMetricsSchema, { run, metrics: {} }, `its metrics are not shown; \`dag report --run ${run}\` writes them again`).metrics

/** One line per run: what `dag runs` prints (and as JSON), the runs page and a report's run history. */
export const runSummary = (runsDir: string, r: RunRecord) => ({
  run: r.run,
  pipeline: r.pipeline,
  status: r.status,
  started: r.startedAt,
  ms: r.ms ?? null,
  profile: r.profile,
  executor: r.executor ?? "local",
  computed: r.nodes.filter((n) => n.status === "computed" || n.status === "partial").length,
  cached: r.nodes.filter((n) => n.status === "cached").length,
  failed: r.nodes.filter((n) => n.status === "failed").length,
  rowsOut: r.nodes.reduce((a, n) => a + n.rows.out, 0),
  params: r.overrides,
  metrics: readMetrics(runsDir, r.run),
})
export type RunSummary = ReturnType<typeof runSummary>

/** The newest real runs (no dry runs), of one pipeline or all, from `upTo` back when given; `limit` 0 for every one. */
export const recentRuns = (runsDir: string, pipeline: string | undefined, limit: number, upTo?: string): ReadonlyArray<RunSummary> => {
  const out: Array<RunSummary> = []
  for (const id of listRuns(runsDir).slice().reverse()) {
    // run ids start with their start time, so they sort in time order
    if (upTo !== undefined && id > upTo) continue
    const r = readRun(runsDir, id)
    if (!r || r.dryRun || (pipeline !== undefined && r.pipeline !== pipeline)) continue
    out.push(runSummary(runsDir, r))
    if (limit > 0 && out.length >= limit) break
  }
  return out
}

/** The figures a table of runs has columns for: every name any of them recorded, in first-seen order. */
export const metricNamesOf = (runs: ReadonlyArray<RunSummary>): ReadonlyArray<string> => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))]

/** A metric as a table shows it: four significant digits, thousands grouped. */
export const formatMetric = (v: MetricValue | undefined): string => {
  if (v === null || v === undefined) return "—"
  if (typeof v === "string") return v
  if (Number.isInteger(v)) return v.toLocaleString("en-US")
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : String(Number(v.toPrecision(4)))
}

/** Rows of each dataset output of a node (a file output: its size), never summed across outputs. */
export const outputSizes = (store: Store, log: NodeLog): ReadonlyArray<{ readonly name: string; readonly rows?: number; readonly bytes?: number }> =>
  Object.entries(log.outputs).map(([name, id]) => {
    const m = store.outputManifest(id, log.key, name)
    return m?.kind === "dataset" ? { name, rows: m.rows } : { name, ...(m ? { bytes: m.bytes } : {}) }
  })

/**
 * What a node wrote, as a line shows it: its rows, or each dataset's where it wrote several
 * ("kept 7, clusters 8"), since their sum counts nothing a reader could find.
 */
export const rowsOutText = (store: Store, log: NodeLog): string => {
  // a node of one output needs no manifest read: its rows are the log's
  const datasets = Object.keys(log.outputs).length > 1 ? outputSizes(store, log).filter((o) => o.rows !== undefined) : []
  return datasets.length > 1 ? datasets.map((o) => `${o.name} ${o.rows!.toLocaleString("en-US")}`).join(", ") : log.rows.out.toLocaleString("en-US")
}
