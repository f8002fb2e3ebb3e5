/**
 * The Hub's dataset layout, written from a run's artifacts: `data/<config>/<split>-00000-of-000NN.parquet`,
 * zstd Parquet files of bounded size. DuckDB does the work (the union of a configuration's
 * datasets, each row's split, one sort by `id`, the cut into files), so memory stays bounded and
 * large splits spill to disk. The same rows always give the same bytes (a total order, contiguous
 * ranges of it per file, one single-file COPY each), so publishing a run again produces files the
 * Hub already has.
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import * as fs from "node:fs"
import * as path from "node:path"
import { quoteIdent } from "../columns.js"
import type { RunRecord } from "../journal.js"
import type { Wire } from "../pipeline.js"
import { queryRows, sqlString } from "../store/duckdb.js"
import type { DatasetManifest, Store } from "../store/store.js"
import type { PublishConfig, PublishPart } from "./spec.js"

/** The manifest of one output of a run, or why it cannot be read. */
export const datasetOf = (store: Store, run: RunRecord, w: Wire): DatasetManifest | string => {
  const log = run.nodes.find((n) => n.node === w.node)
  const id = log?.outputs[w.output]
  if (!log || !id) return `run ${run.run} has no output "${w.node}.${w.output}" (did the node run? see \`dag status --run ${run.run}\`)`
  const m = store.outputManifest(id, log.key, w.output)
  if (!m) return `artifact ${id.slice(0, 12)} (${w.node}.${w.output}) is gone from the store; re-run the pipeline`
  if (m.kind !== "dataset") return `${w.node}.${w.output} is a file, not a dataset`
  return m
}

/** A SQL relation over a dataset's shards (an empty dataset: no rows, same columns). */
export const relationOf = (store: Store, m: DatasetManifest): string => {
  if (m.shards.length > 0) return `read_parquet([${m.shards.map((s) => sqlString(store.objectPath(s.hash, ".parquet"))).join(", ")}])`
  return `(SELECT ${m.columns.map((c) => `NULL::${duckType(c.type)} AS ${quoteIdent(c.name)}`).join(", ")} WHERE false)`
}

const duckType = (t: DatasetManifest["columns"][number]["type"]): string =>
  t.kind === "string"
    ? "VARCHAR"
    : t.kind === "double"
      ? "DOUBLE"
      : t.kind === "int"
        ? "BIGINT"
        : t.kind === "bool"
          ? "BOOLEAN"
          : t.kind === "list"
            ? `${duckType(t.of)}[]`
            : `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckType(f.type)}`).join(", ")})`

const partSql = (store: Store, run: RunRecord, part: PublishPart): string => {
  const m = datasetOf(store, run, part.data)
  if (typeof m === "string") throw new Error(m)
  const rel = relationOf(store, m)
  if ("split" in part.split) return `SELECT *, ${sqlString(part.split.split)} AS __split FROM ${rel}`
  if ("column" in part.split) {
    if (!m.columns.some((c) => c.name === (part.split as { column: string }).column)) throw new Error(`${part.data.node}.${part.data.output} has no column "${part.split.column}" to split by`)
    return `SELECT *, CAST(${quoteIdent(part.split.column)} AS VARCHAR) AS __split FROM ${rel}`
  }
  const by = datasetOf(store, run, part.split.splitsOf)
  if (typeof by === "string") throw new Error(by)
  // rows the split source does not list (a document the tokenizer dropped as empty) go to train
  return `SELECT d.*, coalesce(s.split, 'train') AS __split FROM ${rel} d LEFT JOIN (SELECT id, any_value(split) AS split FROM ${relationOf(store, by)} GROUP BY id) s ON d.id = s.id`
}

export interface PublishedFile {
  /** path inside the repository */
  readonly path: string
  /** where it is on this machine */
  readonly local: string
  readonly bytes: number
  readonly rows?: number
}

export interface SplitStats {
  readonly config: string
  readonly split: string
  readonly rows: number
  readonly files: ReadonlyArray<string>
  readonly bytes: number
}

const SPLIT_ORDER = ["train", "validation", "test"]
/** train, validation, test, then any other split by name */
export const splitRank = (s: string) => (SPLIT_ORDER.includes(s) ? SPLIT_ORDER.indexOf(s) : SPLIT_ORDER.length)

/**
 * Writes one configuration's files under `out/data/<config>/`. `maxFileBytes` bounds each file (by
 * the source shards' bytes per row; Parquet files of the same rows come out close to that).
 */
export const writeConfig = async (
  c: DuckDBConnection,
  store: Store,
  run: RunRecord,
  config: PublishConfig,
  out: string,
  maxFileBytes: number
): Promise<{ files: Array<PublishedFile>; splits: Array<SplitStats> }> => {
  const parts = config.parts.map((p) => partSql(store, run, p))
  const view = `publish_${config.name.replace(/[^a-zA-Z0-9]/g, "_")}`
  await c.run(`CREATE OR REPLACE TEMP VIEW ${view} AS ${parts.map((p) => `(${p})`).join(" UNION ALL BY NAME ")}`)
  const columns = (await queryRows(c, `DESCRIBE ${view}`)).rows.map((r) => String(r.column_name)).filter((n) => n !== "__split")
  // a total order (ties broken by every column) so the same rows always land in the same files
  const order = (columns.includes("id") ? ["id", ...columns.filter((c) => c !== "id")] : columns).map(quoteIdent).join(", ")
  const dataBytes = config.parts.reduce((a, p) => a + ((datasetOf(store, run, p.data) as DatasetManifest).bytes ?? 0), 0)
  const dataRows = config.parts.reduce((a, p) => a + (datasetOf(store, run, p.data) as DatasetManifest).rows, 0)
  const bytesPerRow = dataRows > 0 ? dataBytes / dataRows : 0
  const counts = (await queryRows(c, `SELECT __split AS split, count(*)::BIGINT AS n FROM ${view} GROUP BY 1`)).rows
    .map((r) => ({ split: String(r.split), rows: Number(r.n) }))
    .sort((a, b) => splitRank(a.split) - splitRank(b.split) || a.split.localeCompare(b.split))
  const dir = path.join(out, "data", config.name)
  fs.mkdirSync(dir, { recursive: true })
  const files: Array<PublishedFile> = []
  const splits: Array<SplitStats> = []
  const cols = columns.map(quoteIdent).join(", ")
  for (const { split, rows } of counts) {
    if (!/^[A-Za-z0-9_.-]+$/.test(split)) throw new Error(`configuration ${config.name}: split name ${JSON.stringify(split)} is not a plain name`)
    const fileCount = Math.min(rows, Math.max(1, Math.ceil((rows * bytesPerRow) / maxFileBytes)))
    const perFile = Math.ceil(rows / fileCount)
    // sorted once (DuckDB spills what does not fit), then cut into contiguous ranges of that order
    await c.run(`CREATE OR REPLACE TEMP TABLE __publish_split AS SELECT ${cols}, row_number() OVER (ORDER BY ${order}) AS __rn FROM ${view} WHERE __split = ${sqlString(split)}`)
    const written: Array<string> = []
    try {
      for (let i = 0; i * perFile < rows; i++) {
        const tmp = path.join(dir, `.${split}-${i}.parquet.part`)
        await c.run(`COPY (SELECT ${cols} FROM __publish_split WHERE __rn > ${i * perFile} AND __rn <= ${(i + 1) * perFile} ORDER BY __rn) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`)
        written.push(tmp)
      }
    } finally {
      await c.run("DROP TABLE IF EXISTS __publish_split")
    }
    const names: Array<string> = []
    for (const [i, tmp] of written.entries()) {
      const name = `${split}-${String(i).padStart(5, "0")}-of-${String(written.length).padStart(5, "0")}.parquet`
      const local = path.join(dir, name)
      fs.renameSync(tmp, local)
      const fileRows = Number((await queryRows(c, `SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(local)})`)).rows[0]!.n)
      files.push({ path: `data/${config.name}/${name}`, local, bytes: fs.statSync(local).size, rows: fileRows })
      names.push(`data/${config.name}/${name}`)
    }
    splits.push({ config: config.name, split, rows, files: names, bytes: names.reduce((a, n) => a + fs.statSync(path.join(out, n)).size, 0) })
  }
  return { files, splits }
}
