/**
 * Which run a command means. `--run` takes a run id, a unique prefix of one, `latest` or
 * `latest~N` (N runs before the latest). Without it, commands that read results take the latest
 * *successful* run that has what they ask for (a node's outputs, the views a query names, a
 * pipeline), so a failed typo run or another pipeline's run never hides the results a user means.
 */
import { viewName } from "./inspect/views.js"
import { listRuns, readRun, type RunRecord } from "./journal.js"

export interface RunWanted {
  /** only runs of this pipeline */
  readonly pipeline?: string
  /** only runs that finished ok (default true) */
  readonly ok?: boolean
  /** only runs holding this node's outputs */
  readonly node?: string
  /** only runs holding every one of these `dag sql` views that some run has */
  readonly views?: ReadonlyArray<string>
}

/** The `dag sql` views of a run's outputs. */
export const viewsOf = (run: RunRecord): ReadonlyArray<string> =>
  run.nodes.flatMap((n) => {
    const outs = Object.keys(n.outputs)
    return outs.map((o) => viewName(n.node, o, outs.length))
  })

/** Identifiers in a SQL text (candidates for view names). */
export const identifiersIn = (sql: string): ReadonlyArray<string> => [...new Set(sql.replace(/'(?:[^']|'')*'/g, "''").match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])]

const describe = (w: RunWanted): string => [w.ok === false ? "run" : "successful run", w.pipeline ? `of ${w.pipeline}` : "", w.node ? `with outputs of ${w.node}` : ""].filter(Boolean).join(" ")

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
  const runs = ids
    .slice()
    .reverse()
    .map((id) => readRun(runsDir, id))
    .filter((r): r is RunRecord => r !== undefined && !r.dryRun)
  const ofPipeline = runs.filter((r) => !wanted.pipeline || r.pipeline === wanted.pipeline)
  // a query's views: those of its identifiers that are a view in some run
  const known = wanted.views ? new Set(ofPipeline.flatMap(viewsOf)) : undefined
  const needed = wanted.views?.filter((v) => known!.has(v)) ?? []
  const fits = ofPipeline.filter(
    (r) =>
      (wanted.ok === false || r.status === "ok") &&
      (!wanted.node || r.nodes.some((n) => n.node === wanted.node && Object.keys(n.outputs).length > 0)) &&
      (needed.length === 0 || needed.every((v) => viewsOf(r).includes(v)))
  )
  const hit = fits[back]
  if (hit) return hit
  if (runs.length === 0) return { error: `no runs yet in ${runsDir}; start one with \`dag run PIPELINE\`` }
  if (fits.length > 0) return { error: `--run ${spec}: there are only ${fits.length} ${describe(wanted)}(s)` }
  const newest = ofPipeline[0] ?? runs[0]!
  return { error: `no ${describe(wanted)} yet; the latest${wanted.pipeline ? "" : ` (pipeline ${newest.pipeline})`} is ${newest.run}, ${newest.status}: see \`dag status --run ${newest.run}\`` }
}
