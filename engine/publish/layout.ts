/**
 * The Hub's dataset layout, written from a run's artifacts: `data/<config>/<split>-00000-of-000NN.parquet`,
 * zstd Parquet files of about `maxFileBytes` each. DuckDB does the work (the union of a
 * configuration's datasets, each row's split, the cut into files) in one streaming pass per split,
 * one file open at a time, so memory does not grow with the data. The same run always gives the
 * same bytes (one thread: rows in the order of the run's shards), so publishing a run again
 * produces files the Hub already has.
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
    // a row without a split goes to train, as rows the splitsOf source does not list do
    return `SELECT *, coalesce(CAST(${quoteIdent(part.split.column)} AS VARCHAR), 'train') AS __split FROM ${rel}`
  }
  const by = datasetOf(store, run, part.split.splitsOf)
  if (typeof by === "string") throw new Error(by)
  // rows the split source does not list (a document the tokenizer dropped as empty) go to train
  return `SELECT d.*, coalesce(s.split, 'train') AS __split FROM ${rel} d LEFT JOIN (SELECT id, any_value(split) AS split FROM ${relationOf(store, by)} GROUP BY id) s ON d.id = s.id`
}

/** Split names `datasets` accepts. */
export const SPLIT_NAME = /^\w+(\.\w+)*$/

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
/** train, validation, test, then any other split by name (code units: the same order on every host) */
export const bySplit = (a: string, b: string): number => splitRank(a) - splitRank(b) || (a < b ? -1 : a > b ? 1 : 0)
const splitRank = (s: string) => (SPLIT_ORDER.includes(s) ? SPLIT_ORDER.indexOf(s) : SPLIT_ORDER.length)

/**
 * Writes one configuration's files under `out/data/<config>/`. `maxFileBytes` bounds each file (by
 * the source shards' bytes per row; Parquet files of the same rows come out close to that).
 */
export const writeConfig = (c: DuckDBConnection, store: Store, run: RunRecord, config: PublishConfig, out: string, maxFileBytes: number) =>
  oneThread(c, () => writeFiles(c, store, run, config, out, maxFileBytes))

/** One thread: rows leave DuckDB in the order of the run's shards, so the same run always gives the same bytes, with no sort. */
const oneThread = async <A>(c: DuckDBConnection, f: () => Promise<A>): Promise<A> => {
  await c.run("SET threads = 1")
  try {
    return await f()
  } finally {
    await c.run("RESET threads")
  }
}

const writeFiles = async (
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
  // partSql has checked every part's dataset is there
  const datasets = config.parts.map((p) => datasetOf(store, run, p.data) as DatasetManifest)
  const dataBytes = datasets.reduce((a, m) => a + (m.bytes ?? 0), 0)
  const dataRows = datasets.reduce((a, m) => a + m.rows, 0)
  const bytesPerRow = dataRows > 0 ? dataBytes / dataRows : 0
  const counts = (await queryRows(c, `SELECT __split AS split, count(*)::BIGINT AS n FROM ${view} GROUP BY 1`)).rows
    .map((r) => ({ split: String(r.split), rows: Number(r.n) }))
    .sort((a, b) => bySplit(a.split, b.split))
  const dir = path.join(out, "data", config.name)
  fs.mkdirSync(dir, { recursive: true })
  const files: Array<PublishedFile> = []
  const splits: Array<SplitStats> = []
  const cols = columns.map(quoteIdent).join(", ")
  // the Parquet writer buffers a whole row group: about 4 MB of compressed rows (not DuckDB's default
  // 122,880 rows), and at most half a file, since a file is cut only between row groups
  const rowGroup = Math.max(1, Math.min(122_880, Math.floor(Math.min(4e6, maxFileBytes / 2) / Math.max(1, bytesPerRow))))
  for (const { split, rows } of counts) {
    if (!SPLIT_NAME.test(split)) throw new Error(`configuration ${config.name}: split ${JSON.stringify(split)} is not a name the Hub's datasets library accepts (letters, digits, _ and inner dots)`)
    // one pass, one file open at a time: DuckDB starts a new file once the current one passes
    // maxFileBytes (so a file exceeds it by at most one row group)
    const scratch = path.join(dir, `.${split}.parts`)
    fs.rmSync(scratch, { recursive: true, force: true })
    const written: Array<string> = []
    try {
      await c.run(
        `COPY (SELECT ${cols} FROM ${view} WHERE __split = ${sqlString(split)}) TO ${sqlString(scratch)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${rowGroup}, FILE_SIZE_BYTES ${Math.floor(maxFileBytes)}, FILENAME_PATTERN 'part_{i}')`
      )
      const parts = fs
        .readdirSync(scratch)
        .map((f) => ({ f, i: Number(/^part_(\d+)\.parquet$/.exec(f)?.[1] ?? NaN) }))
        .sort((x, y) => x.i - y.i)
      if (parts.some((p) => Number.isNaN(p.i))) throw new Error(`unexpected files from DuckDB in ${scratch}: ${parts.map((p) => p.f).join(", ")}`)
      for (const { f } of parts) {
        const tmp = path.join(dir, `.${split}-${written.length}.parquet.part`)
        fs.renameSync(path.join(scratch, f), tmp)
        written.push(tmp)
      }
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true })
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
