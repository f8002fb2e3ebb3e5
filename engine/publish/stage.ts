/**
 * Stages what `dag publish` sends: the Hub layout's Parquet files, the dataset card and
 * `mathdag.json`, all written into one folder from one run. `--dry-run --out DIR` stops here;
 * a real publish uploads that folder. Everything written is a function of the run alone (no
 * clock, no host), so staging the same run twice gives the same bytes and the Hub gets nothing new.
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import * as fs from "node:fs"
import * as path from "node:path"
import { canonicalJson } from "../hash.js"
import type { RunRecord } from "../journal.js"
import { defaultParams } from "../params.js"
import { packageVersion } from "../paths.js"
import { ancestorsOf, topoOrder, type Pipeline, type Wire } from "../pipeline.js"
import { duckdbVersion, queryRows } from "../store/duckdb.js"
import { outputPorts } from "../node.js"
import type { Store } from "../store/store.js"
import { cardMarkdown, type CardModel, type ConfigModel, type ParamChange, type StageRow } from "./card.js"
import { bySplit, datasetOf, relationOf, writeConfig, type PublishedFile, type SplitStats } from "./layout.js"
import { wiresOf, type PublishConfig } from "./spec.js"

/**
 * Makes `out` ready for staging: a new or empty folder, or one an earlier staging wrote (it has a
 * mathdag.json), whose files are replaced. Any other folder is refused, never cleared: `--out .`
 * must not delete a project.
 */
export const claimOut = (out: string): void => {
  const entries = fs.existsSync(out) ? fs.readdirSync(out) : []
  if (entries.length > 0 && !entries.includes("mathdag.json")) throw new Error(`--out ${out} is not empty and was not written by dag publish; give a new or empty folder`)
  for (const e of entries) fs.rmSync(path.join(out, e), { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
}

export interface Staged {
  readonly files: ReadonlyArray<PublishedFile>
  readonly splits: ReadonlyArray<SplitStats>
  readonly card: string
}

const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

const stagesOf = (pipeline: Pipeline, run: RunRecord, store: Store, config: PublishConfig): Array<StageRow> => {
  const wanted = ancestorsOf(
    pipeline,
    config.parts.map((p) => p.data.node)
  )
  const rows: Array<StageRow> = []
  for (const pn of topoOrder(pipeline)) {
    if (!wanted.has(pn.node.name)) continue
    const log = run.nodes.find((n) => n.node === pn.node.name)
    if (!log) continue
    const outputs = Object.entries(outputPorts(pn.node))
      .filter(([, port]) => port._tag === "Dataset")
      .map(([name]) => {
        const m = datasetOf(store, run, { node: pn.node.name, output: name })
        return { name, rows: typeof m === "string" ? 0 : m.rows }
      })
    const inputs = Object.entries(pn.inputs).map(([name, w]) => {
      const m = datasetOf(store, run, w)
      return { name, rows: typeof m === "string" ? 0 : m.rows }
    })
    rows.push({ node: pn.node.name, kind: pn.node.kind, version: pn.node.version, status: log.status, rowsIn: log.rows.in, inputs, outputs, dropped: log.dropped })
  }
  return rows
}

const overlapOf = async (c: DuckDBConnection, pipeline: Pipeline, run: RunRecord, store: Store, config: PublishConfig, stages: ReadonlyArray<StageRow>): Promise<ConfigModel["overlap"]> => {
  const w = config.overlap
  if (!w) return undefined
  const m = datasetOf(store, run, w)
  if (typeof m === "string") throw new Error(m)
  const rows = (
    await queryRows(
      c,
      `SELECT test_set, count(DISTINCT test_id)::BIGINT AS examples, count(DISTINCT id)::BIGINT AS documents, list(DISTINCT test_id ORDER BY test_id)[1:5] AS sample FROM ${relationOf(store, m)} GROUP BY 1 ORDER BY 1`
    )
  ).rows.map((r) => ({ testSet: String(r.test_set), examples: Number(r.examples), documents: Number(r.documents), sample: (r.sample as Array<string>).map(String) }))
  // the node that reads these hits on the subset's path is the one that removed documents
  const remover = pipeline.nodes.find((pn) => Object.values(pn.inputs).some((i) => i.node === w.node && i.output === w.output) && stages.some((s) => s.node === pn.node.name))
  const removed = remover ? Object.values(run.nodes.find((n) => n.node === remover.node.name)?.dropped ?? {}).reduce((a, b) => a + b, 0) : 0
  return { node: w.node, rows, removed, ...(remover ? { removedBy: remover.node.name } : {}) }
}

const tokensOf = async (c: DuckDBConnection, run: RunRecord, store: Store, config: PublishConfig): Promise<ConfigModel["tokens"]> => {
  const rels = (config.tokens ?? []).map((w) => {
    const m = datasetOf(store, run, w)
    if (typeof m === "string") throw new Error(m)
    return `SELECT split, n_tokens FROM ${relationOf(store, m)}`
  })
  if (rels.length === 0) return []
  const rows = (await queryRows(c, `SELECT split, count(*)::BIGINT AS documents, sum(n_tokens)::BIGINT AS tokens FROM (${rels.join(" UNION ALL ")}) GROUP BY 1`)).rows
  return rows.map((r) => ({ split: String(r.split), documents: Number(r.documents), tokens: Number(r.tokens ?? 0) })).sort((a, b) => bySplit(a.split, b.split))
}

const paramChanges = (pipeline: Pipeline, run: RunRecord, nodes: ReadonlySet<string>): Array<ParamChange> => {
  const out: Array<ParamChange> = []
  for (const pn of topoOrder(pipeline)) {
    if (!nodes.has(pn.node.name)) continue
    const used = run.nodes.find((n) => n.node === pn.node.name)?.params as Record<string, unknown> | undefined
    if (!used || typeof used !== "object") continue
    const defaults = (defaultParams(pn.node.params) ?? {}) as Record<string, unknown>
    for (const [k, v] of Object.entries(used)) if (canonicalJson(v) !== canonicalJson(defaults[k])) out.push({ node: pn.node.name, param: k, value: v, default: defaults[k] ?? null })
  }
  return out
}

/** The command that makes this run's data again (`dag run` with the run's profile and --param flags). */
export const reproduceCommand = (run: RunRecord): string =>
  ["npx dag run", run.pipeline, ...(run.profile && run.profile !== "default" ? ["--profile", run.profile] : []), ...run.overrides.flatMap((o) => ["--param", o])]
    .map((p, i) => (i === 0 ? p : shellQuote(p)))
    .join(" ")

export const stagePublish = async (
  c: DuckDBConnection,
  pipeline: Pipeline,
  run: RunRecord,
  store: Store,
  configs: ReadonlyArray<PublishConfig>,
  out: string,
  o: { readonly repo: string; readonly maxFileBytes: number; readonly log: (line: string) => void }
): Promise<Staged> => {
  const spec = pipeline.publish!
  claimOut(out)
  const files: Array<PublishedFile> = []
  const splits: Array<SplitStats> = []
  const models: Array<ConfigModel> = []
  const allStages = new Set<string>()
  for (const config of configs) {
    o.log(`${config.name}: writing ${config.parts.length} dataset(s) as the Hub's layout…`)
    const written = await writeConfig(c, store, run, config, out, o.maxFileBytes)
    files.push(...written.files)
    splits.push(...written.splits)
    const stages = stagesOf(pipeline, run, store, config)
    for (const s of stages) allStages.add(s.node)
    models.push({
      name: config.name,
      description: config.description,
      splits: written.splits,
      stages,
      tokens: await tokensOf(c, run, store, config),
      tokenNodes: (config.tokens ?? []).map((w) => w.node),
      ...(config.overlap ? { overlap: await overlapOf(c, pipeline, run, store, config, stages) } : {}),
    })
    for (const s of written.splits) o.log(`  ${config.name}/${s.split}: ${s.rows} rows in ${s.files.length} file(s)`)
  }
  const model: CardModel = {
    facts: spec.card,
    repo: o.repo,
    pipeline: pipeline.name,
    run: { id: run.run, startedAt: run.startedAt, profile: run.profile, executor: run.executor ?? "local", host: run.host },
    configs: models,
    params: paramChanges(pipeline, run, allStages),
    versions: {
      mathdag: packageVersion(),
      duckdb: await duckdbVersion(),
      nodes: topoOrder(pipeline)
        .filter((pn) => allStages.has(pn.node.name))
        .map((pn) => ({ node: pn.node.name, version: pn.node.version, key: run.nodes.find((n) => n.node === pn.node.name)?.key ?? "" })),
    },
    reproduce: `${reproduceCommand(run)}\nnpx dag publish ${configs.map((c) => c.name).join(" ")} --to hf://datasets/${o.repo}`,
  }
  const card = cardMarkdown(model)
  fs.writeFileSync(path.join(out, "README.md"), card)
  const artifacts = configs.flatMap((config) =>
    wiresOf(config).map((w: Wire) => {
      const log = run.nodes.find((n) => n.node === w.node)
      return { config: config.name, node: w.node, output: w.output, key: log?.key ?? null, artifact: log?.outputs[w.output] ?? null }
    })
  )
  const provenance = {
    format: "mathdag-publish/1",
    pipeline: pipeline.name,
    run: run.run,
    profile: run.profile,
    overrides: run.overrides,
    mathdag: model.versions.mathdag,
    duckdb: model.versions.duckdb,
    configs: models.map((m) => ({ name: m.name, splits: m.splits.map((s) => ({ split: s.split, rows: s.rows, files: s.files })) })),
    files: files.map((f) => ({ path: f.path, bytes: f.bytes, rows: f.rows })),
    artifacts,
    nodes: model.versions.nodes,
  }
  fs.writeFileSync(path.join(out, "mathdag.json"), JSON.stringify(provenance, null, 1) + "\n")
  files.push(
    { path: "README.md", local: path.join(out, "README.md"), bytes: fs.statSync(path.join(out, "README.md")).size },
    { path: "mathdag.json", local: path.join(out, "mathdag.json"), bytes: fs.statSync(path.join(out, "mathdag.json")).size }
  )
  return { files, splits, card }
}
