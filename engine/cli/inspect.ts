/** `dag status`, `dag why`, `dag graph`, `dag ls`: read-only views of runs, plans and the store. */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { NotFoundError } from "../errors.js"
import { runtimeFacts } from "../exec/runner.js"
import { describePlan, planPipeline } from "../exec/staleness.js"
import { listRuns, readRun } from "../journal.js"
import { formatMetric, metricNamesOf, recentRuns, resolveRun, rowsOutText } from "../runs.js"
import { runsPage } from "../report/html.js"
import * as fs from "node:fs"
import * as path from "node:path"
import { topoOrder } from "../pipeline.js"
import type { DatasetManifest, Store } from "../store/store.js"
import { viewName } from "../inspect/views.js"
import { jobsPath, readJobs } from "../slurm/spec.js"
import { didYouMean } from "../suggest.js"
import { getParams, getPipeline, getRun, loadSettings, openStore, pipelineFor, wantedPipeline } from "./context.js"
import { bytes, num, seconds, table } from "./format.js"
import { jsonOption, nodeArg, pipelineRunOption, profileOption, runOption } from "./options.js"

const profile = profileOption
const json = jsonOption
const runOpt = runOption()
const pipelineOpt = Options.text("pipeline").pipe(Options.optional, Options.withDescription("the pipeline NODE is in, e.g. --pipeline dedup; default: the latest run's"))

export const statusCommand = Command.make(
  "status",
  {
    run: runOption("the latest run, whatever its status"),
    json,
    profile,
    all: Options.boolean("all").pipe(Options.withDescription("list every recorded run instead (as dag runs --limit 0 does), e.g. dag status --all")),
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      if (o.all) {
        const rows = listRuns(settings.runs)
          .map((id) => readRun(settings.runs, id)!)
          .filter(Boolean)
        if (o.json) return yield* Console.log(JSON.stringify(rows.map((r) => ({ run: r.run, pipeline: r.pipeline, status: r.status, ms: r.ms }))))
        return yield* Console.log(
          table(
            ["run", "pipeline", "status", "time", "nodes"],
            rows.map((r) => [r.run, r.pipeline, r.status, r.ms ? seconds(r.ms) : "", r.nodes.length])
          )
        )
      }
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), { ok: false })
      if (o.json) return yield* Console.log(JSON.stringify(run))
      const store = openStore(settings)
      yield* Console.log(
        `run ${run.run} · pipeline ${run.pipeline} · ${run.status} · ${run.ms !== undefined ? seconds(run.ms) : "running"} · profile ${run.profile}${run.executor && run.executor !== "local" ? ` · executor ${run.executor}` : ""} · host ${run.host}`
      )
      if (run.overrides.length) yield* Console.log(`params: ${run.overrides.join(" ")}`)
      if (run.mainThread) {
        const worst = (run.mainThread.stalls ?? []).slice(0, 3).map((s) => `${s.ms} ms at ${seconds(s.atMs)}${s.running.length ? ` (${s.running.join(", ")})` : ""}`)
        yield* Console.log(
          `main thread: longest stall ${run.mainThread.maxStallMs} ms (p99 ${run.mainThread.p99StallMs} ms): how long progress and Ctrl-C could wait${worst.length ? `; worst: ${worst.join("; ")}` : ""}`
        )
      }
      const jobs = readJobs(settings.runs, run.run)
      if (jobs.length > 0) {
        const attached = jobs.filter((j) => j.attached).length
        yield* Console.log(
          `slurm: ${jobs.length} job${jobs.length > 1 ? "s" : ""} (${jobs.reduce((a, j) => a + j.tasks, 0)} tasks)${attached ? `, ${attached} re-attached` : ""} — ${jobsPath(settings.runs, run.run)}${run.status === "running" ? `; stop them with \`dag cancel ${run.run}\`` : ""}`
        )
      }
      yield* Console.log(
        table(
          ["node", "status", "shards (computed/total)", "rows in", "rows out", "dropped", "time", "error"],
          run.nodes.map((n) => [
            n.node,
            n.status,
            `${n.shards.computed}/${n.shards.total}`,
            num(n.rows.in),
            rowsOutText(store, n),
            Object.entries(n.dropped)
              .map(([k, v]) => `${k}=${v}`)
              .join(" "),
            seconds(n.ms),
            n.errors.at(-1) ?? "",
          ])
        )
      )
      // the table shortens errors; failed nodes get theirs in full (a cluster task's log path and last lines)
      for (const n of run.nodes.filter((x) => x.status === "failed" && x.errors.length > 0)) {
        yield* Console.log(
          `\n${n.node} failed:\n${n.errors
            .at(-1)!
            .split("\n")
            .map((l) => `  ${l}`)
            .join("\n")}`
        )
      }
      // the latest run is where a failure is read; the results other commands read are one command away
      if (Option.isNone(o.run) && run.status !== "ok") {
        const good = resolveRun(settings.runs, undefined, { pipeline: run.pipeline })
        if (!("error" in good)) yield* Console.log(`\nthe latest successful run of ${run.pipeline} is ${good.run} (what sql, ls, export and report read): \`dag status --run ${good.run}\``)
      }
    })
).pipe(Command.withDescription("Show a run from its journal (by default the latest, whatever its status): per node status, shards, rows, drops, errors."))

/** Follows lineage from one output shard back to source units. */
const traceShard = (store: Store, node: string, index: number, depth = 0): Array<string> => {
  const ref = store.getRef(node)
  const shard = ref?.shards[index]
  const pad = "  ".repeat(depth + 1)
  if (!ref) return [`${pad}${node} shard ${index}: no result of ${node} is recorded in this store yet; run its pipeline first`]
  if (!shard) {
    const why =
      ref.shards.length === 0
        ? `${node} is a global node: it reads every input shard at once, so its output has no per-shard lineage`
        : `${node} has ${ref.shards.length} shard(s), numbered 0 to ${ref.shards.length - 1}`
    return [`${pad}${node} shard ${index}: no such shard — ${why}`]
  }
  const lines = [`${pad}${node} shard ${index}: ${num(shard.rows)} rows, content ${shard.hash.slice(0, 12)}, key ${shard.key.slice(0, 12)}, made by ${node} v${ref.struct.version} in run ${ref.run}`]
  if (ref.struct.kind === "source") {
    lines.push(`${pad}  ← source ${shard.inputs.join(", ")}`)
    return lines
  }
  for (const h of shard.inputs) {
    const upstream = Object.values(ref.struct.inputs).length > 0 ? findProducer(store, h) : undefined
    if (upstream) lines.push(...traceShard(store, upstream.node, upstream.index, depth + 1))
    else lines.push(`${pad}  ← input shard ${h.slice(0, 12)}`)
  }
  return lines
}

const producerIndex = new Map<string, { node: string; index: number }>()
const findProducer = (store: Store, hash: string) => {
  if (producerIndex.size === 0) {
    for (const rec of store.allRefs()) for (const s of rec.shards) producerIndex.set(s.hash, { node: rec.node, index: s.index })
  }
  return producerIndex.get(hash)
}

export const whyCommand = Command.make(
  "why",
  {
    node: nodeArg("the node to explain"),
    shard: Options.integer("shard").pipe(Options.optional, Options.withDescription("show the lineage of one output shard (its inputs, key and run), e.g. --shard 0")),
    param: Options.text("param").pipe(
      Options.repeated,
      Options.withDescription("ask about a run with this override (repeatable), e.g. --param demo/clean.lowercase=true; default: the params of dag.config.ts")
    ),
    pipeline: pipelineOpt,
    json,
    profile,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const pipeline = yield* getPipeline(pipelineFor(settings, Option.getOrUndefined(o.pipeline)))
      if (!pipeline.nodes.some((pn) => pn.node.name === o.node)) {
        return yield* Effect.fail(
          new NotFoundError({
            what: "node",
            name: o.node,
            message: `no node "${o.node}" in pipeline ${pipeline.name}${didYouMean(
              o.node,
              pipeline.nodes.map((pn) => pn.node.name)
            )}; nodes: ${pipeline.nodes.map((pn) => pn.node.name).join(", ")}`,
          })
        )
      }
      const params = yield* getParams(pipeline, settings, o.param)
      const store = openStore(settings)
      if (Option.isSome(o.shard)) {
        const lines = traceShard(store, o.node, o.shard.value)
        if (store.getRef(o.node)?.shards[o.shard.value] === undefined) {
          return yield* Effect.fail(new NotFoundError({ what: "shard", name: `${o.node}#${o.shard.value}`, message: lines[0]!.trim() }))
        }
        if (o.json) return yield* Console.log(JSON.stringify({ node: o.node, shard: o.shard.value, lineage: store.getRef(o.node)?.shards[o.shard.value] ?? null }))
        return yield* Console.log([`lineage of ${o.node} shard ${o.shard.value}:`, ...lines].join("\n"))
      }
      const plans = yield* planPipeline(pipeline, params, store, runtimeFacts(), { select: [o.node] })
      const plan = plans.find((p) => p.node === o.node)!
      const last = [...listRuns(settings.runs)]
        .reverse()
        .map((id) => readRun(settings.runs, id))
        .find((r) => r?.nodes.some((n) => n.node === o.node && (n.status === "computed" || n.status === "partial")))
      const lastLog = last?.nodes.find((n) => n.node === o.node)
      if (o.json) {
        return yield* Console.log(
          JSON.stringify({
            node: o.node,
            status: plan.status,
            causes: plan.causes,
            shards: plan.staleShards ?? null,
            stored: plan.stored?.struct ?? null,
            current: plan.struct ?? null,
            lastComputed: lastLog ? { run: last!.run, causes: lastLog.causes } : null,
          })
        )
      }
      const given = o.param.length ? `--param ${o.param.join(" --param ")}` : "the default params"
      yield* Console.log(`${describePlan(plan)}\n  (for ${given}${Option.isSome(o.profile) ? ` and profile ${o.profile.value}` : ""})`)
      if (lastLog) yield* Console.log(`last computed in run ${last!.run}: ${lastLog.causes.map((c) => `${c.category}: ${c.detail}`).join("; ") || "first run"}`)
      // the question a user usually means: "is what my last run made still current?"
      const found = resolveRun(settings.runs, undefined, { pipeline: pipeline.name, ok: false, accept: (r) => r.nodes.some((n) => n.node === o.node) })
      const latest = "error" in found ? undefined : found
      const sameFlags = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => [...a].sort().join("\n") === [...b].sort().join("\n")
      if (latest && !sameFlags(latest.overrides, o.param)) {
        const flags = latest.overrides.map((f) => `--param ${f}`).join(" ")
        yield* Console.log(`note: the latest run of ${pipeline.name} (${latest.run}) used ${flags || "the default params"}; ask about those with \`dag why ${o.node}${flags ? ` ${flags}` : ""}\``)
      }
    })
).pipe(Command.withDescription("Explain whether a node is up to date and why not (CODE / PARAMS / DATA / DEPENDENCIES), or trace a shard's lineage."))

export const graphCommand = Command.make(
  "graph",
  {
    pipeline: Args.text({ name: "pipeline" }).pipe(Args.optional, Args.withDescription("the pipeline to draw, e.g. proof-pile-2; default: the latest run's")),
    format: Options.choice("format", ["text", "mermaid"]).pipe(
      Options.withDefault("text" as const),
      Options.withDescription("text, or a Mermaid flowchart to paste into Markdown, e.g. --format mermaid; default: text")
    ),
    profile,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const pipeline = yield* getPipeline(pipelineFor(settings, Option.getOrUndefined(o.pipeline)))
      const order = topoOrder(pipeline)
      if (o.format === "mermaid") {
        const id = (n: string) => n.replace(/[^a-zA-Z0-9]/g, "_")
        const lines = ["graph TD"]
        for (const pn of order) lines.push(`  ${id(pn.node.name)}["${pn.node.name}<br/><small>${pn.node.kind}</small>"]`)
        for (const pn of order) for (const [input, w] of Object.entries(pn.inputs)) lines.push(`  ${id(w.node)} -->|${w.output === "out" ? input : `${w.output}→${input}`}| ${id(pn.node.name)}`)
        return yield* Console.log(lines.join("\n"))
      }
      const lines = [`${pipeline.name}: ${pipeline.description}`]
      for (const pn of order) {
        const ins = Object.entries(pn.inputs).map(([k, w]) => `${k}←${w.node}${w.output === "out" ? "" : `.${w.output}`}`)
        lines.push(`  ${pn.node.name.padEnd(24)} ${pn.node.kind.padEnd(7)} ${ins.join(", ")}`)
      }
      yield* Console.log(lines.join("\n"))
    })
).pipe(Command.withDescription("Print a pipeline's DAG as text or as a Mermaid diagram."))

export const lsCommand = Command.make("ls", { run: runOpt, pipeline: pipelineRunOption, json, profile }, (o) =>
  Effect.gen(function* () {
    const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
    const run = yield* getRun(settings, Option.getOrUndefined(o.run), wantedPipeline(o.pipeline))
    const store = openStore(settings)
    const rows: Array<Record<string, unknown>> = []
    for (const n of run.nodes) {
      const count = Object.keys(n.outputs).length
      for (const [output, id] of Object.entries(n.outputs)) {
        const m = store.outputManifest(id, n.key, output)
        if (!m) continue
        rows.push({
          node: n.node,
          output,
          view: m.kind === "dataset" ? viewName(n.node, output, count) : null,
          kind: m.kind,
          rows: m.kind === "dataset" ? m.rows : null,
          shards: m.kind === "dataset" ? (m as DatasetManifest).shards.length : 1,
          bytes: m.bytes,
          artifact: id,
        })
      }
    }
    if (o.json) return yield* Console.log(JSON.stringify(rows))
    yield* Console.log(`artifacts of run ${run.run} (${run.pipeline}):`)
    yield* Console.log(
      table(
        ["node", "output", "sql view", "kind", "rows", "shards", "size", "artifact"],
        rows.map((r) => [r.node, r.output, r.view ?? "", r.kind, r.rows === null ? "" : num(r.rows as number), r.shards, bytes(r.bytes as number), String(r.artifact).slice(0, 12)])
      )
    )
  })
).pipe(Command.withDescription("List the artifacts of a run: rows, shards, bytes, and their `dag sql` view names."))

export const runsCommand = Command.make(
  "runs",
  {
    pipeline: Options.text("pipeline").pipe(Options.optional, Options.withDescription("only this pipeline's runs, e.g. --pipeline proof-pile-2; default: every pipeline")),
    limit: Options.integer("limit").pipe(Options.withDefault(20), Options.withDescription("how many of the newest runs to list, 0 for all, e.g. --limit 5; default: 20")),
    html: Options.file("html").pipe(Options.optional, Options.withDescription("also write the table as a page linking to each run's report, e.g. --html runs.html")),
    json,
    profile,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const rows = recentRuns(settings.runs, Option.getOrUndefined(o.pipeline), o.limit)
      if (Option.isSome(o.html)) {
        const file = path.resolve(o.html.value)
        const linked = rows.map((r) => {
          const report = path.join(settings.runs, r.run, "report.html")
          return fs.existsSync(report) ? { ...r, report: path.relative(path.dirname(file), report).split(path.sep).join("/") } : r
        })
        fs.writeFileSync(file, runsPage(linked))
        yield* Console.error(`runs page: ${file}`)
      }
      if (o.json) return yield* Console.log(JSON.stringify(rows))
      if (rows.length === 0) return yield* Console.log(`no runs yet in ${settings.runs}; start one with \`dag run PIPELINE\``)
      // each key figure a column (the pipelines' metrics): runs compare at a glance
      const metricNames = metricNamesOf(rows)
      yield* Console.log(
        table(
          ["run", "pipeline", "status", "started", "time", "computed", "cached", "failed", ...metricNames, "params"],
          rows.map((r) => [
            r.run,
            r.pipeline,
            r.status,
            r.started.replace("T", " ").slice(0, 19),
            r.ms !== null ? seconds(r.ms) : "",
            r.computed,
            r.cached,
            r.failed || "",
            ...metricNames.map((m) => (m in r.metrics ? formatMetric(r.metrics[m]) : "")),
            r.params.join(" "),
          ])
        )
      )
      yield* Console.log(`newest first. Read one with \`dag status --run ID\` (a prefix is enough; latest~1 is the one before the latest)`)
    })
).pipe(Command.withDescription("List runs, newest first: pipeline, status, time, nodes computed/cached/failed, the pipeline's key figures and the params set with --param."))
