/**
 * The DuckDB service: one in-memory instance per process (and per worker thread), loaded lazily
 * so that commands that never touch data (`dag why`, a fully cached `dag run`) start fast.
 * Shards are written through a table and DuckDB's zstd Parquet writer, and read back streamed.
 */
import { Context, Effect, Layer } from "effect"
import type * as Duck from "@duckdb/node-api"
import * as fs from "node:fs"
import * as os from "node:os"
import { createRequire } from "node:module"
import { isMainThread, threadId } from "node:worker_threads"
import type { Column, ColumnType } from "../columns.js"
import { duckdbType, fromDuckValue, quoteIdent } from "../columns.js"
import { DUCKDB_MEMORY_ENV, DUCKDB_TEMP_ENV, instanceLimit } from "../resources/memory.js"
import { tempName } from "./fsx.js"

type DuckModule = typeof Duck

let modulePromise: Promise<DuckModule> | undefined
const loadDuck = (): Promise<DuckModule> => {
  // Loaded on first use, off the start-up path. The bundle carries the client's JavaScript (parsed
  // from the CLI's code cache, a fraction of the ~80 ms its many modules take from node_modules,
  // all of it on the main thread); only the native binding it loads comes from node_modules.
  modulePromise ??= Promise.resolve((typeof require === "function" ? require("@duckdb/node-api") : createRequire(__filename_or_url())("@duckdb/node-api")) as DuckModule)
  return modulePromise
}
const __filename_or_url = (): string => (typeof __filename !== "undefined" ? __filename : import.meta.url)

// Two threads in every executor, a Slurm job with more CPUs included: a global query without ORDER BY
// can return rows in a thread-dependent order, and artifacts must not depend on where they ran.
let instancePromise: Promise<Duck.DuckDBInstance> | undefined
let spillDir: string | undefined
export const instance = (): Promise<Duck.DuckDBInstance> => {
  instancePromise ??= loadDuck().then((m) => m.DuckDBInstance.create(":memory:", { threads: "2", ...budgetOptions() }))
  return instancePromise
}

/**
 * This instance's share of the run's memory budget and its own spill folder (named after this
 * process, so a crashed run's spill files are swept with its other temporaries).
 */
const budgetOptions = (): Record<string, string> => {
  const limit = instanceLimit(isMainThread)
  const tmp = process.env[DUCKDB_TEMP_ENV]
  const options: Record<string, string> = {}
  if (limit) options.memory_limit = `${Math.floor(limit / 1024 ** 2)}MiB`
  if (tmp) {
    spillDir = tempName(tmp, `duckdb-spill-t${threadId}`)
    options.temp_directory = spillDir
  }
  return options
}

/** Closes this thread's instance (before a worker thread exits: DuckDB must not outlive its thread). */
export const closeInstance = async (): Promise<void> => {
  if (!instancePromise) return
  const inst = await instancePromise.catch(() => undefined)
  instancePromise = undefined
  try {
    inst?.closeSync()
  } catch {
    /* already closed */
  }
  if (spillDir) fs.rmSync(spillDir, { recursive: true, force: true })
  spillDir = undefined
}

/** A separate instance, for sessions that lock their configuration (read-only `dag sql`). */
export const newInstance = async (): Promise<Duck.DuckDBInstance> => {
  const limit = instanceLimit(isMainThread)
  return (await loadDuck()).DuckDBInstance.create(":memory:", limit ? { memory_limit: `${Math.floor(limit / 1024 ** 2)}MiB` } : {})
}

export const connect = async (): Promise<Duck.DuckDBConnection> => (await instance()).connect()

export const duckdbVersion = async (): Promise<string> => {
  const m = await loadDuck()
  return m.version()
}

/**
 * How every shard is written. zstd level 1: on text-heavy shards it writes about 1.5-2× faster than
 * the default level 3 for files about 7 % larger, and shards are a cache that is written far more
 * often than archived.
 */
export const SHARD_FORMAT = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`

let tableCounter = 0

export class RowTypeError extends Error {}

const duckValueFor = (m: DuckModule, t: ColumnType, v: unknown): Duck.DuckDBValue => {
  if (v === null || v === undefined) return null
  switch (t.kind) {
    case "int":
      return BigInt(v as number)
    case "list":
      return m.listValue((v as Array<unknown>).map((x) => duckValueFor(m, t.of, x)))
    case "struct":
      return m.structValue(Object.fromEntries(t.fields.map((f) => [f.name, duckValueFor(m, f.type, (v as Record<string, unknown>)[f.name])])))
    default:
      return v as Duck.DuckDBValue
  }
}

const duckTypeFor = (m: DuckModule, t: ColumnType): Duck.DuckDBType => {
  switch (t.kind) {
    case "string":
      return m.VARCHAR
    case "double":
      return m.DOUBLE
    case "int":
      return m.BIGINT
    case "bool":
      return m.BOOLEAN
    case "list":
      return m.LIST(duckTypeFor(m, t.of))
    case "struct":
      return m.STRUCT(Object.fromEntries(t.fields.map((f) => [f.name, duckTypeFor(m, f.type)])))
  }
}

const expectKind = (col: Column, v: unknown, rowNo: number): void => {
  const t = col.type.kind
  const ok =
    t === "string"
      ? typeof v === "string"
      : t === "double"
        ? typeof v === "number"
        : t === "int"
          ? typeof v === "number" && Number.isInteger(v)
          : t === "bool"
            ? typeof v === "boolean"
            : t === "list"
              ? Array.isArray(v)
              : typeof v === "object"
  if (!ok) {
    throw new RowTypeError(`row ${rowNo}: column "${col.name}" expects ${t}, got ${v === null ? "null" : typeof v} (${JSON.stringify(v)?.slice(0, 60)})`)
  }
}

/**
 * A shard writer. Rows are appended into a DuckDB table; every ~PART_BYTES of appended data the
 * table is written out as a Parquet part and emptied, so a shard never holds more than one part in
 * memory, whatever its size. A shard that fits in one part is COPYed straight to its file (the
 * bytes are what they were before parts existed); a larger one is merged from its parts in order,
 * with row groups of one part's rows, so the Parquet writer never buffers the whole shard either.
 */
export interface ShardSink {
  readonly append: (row: Record<string, unknown>) => void
  readonly rows: () => number
  /** About how many bytes of row data were appended in all (strings by length). */
  readonly size: () => number
  /** Whether a part's worth of rows is waiting: call `spill` before the next append. */
  readonly full: () => boolean
  /** Writes the rows held so far as a part and empties the table. */
  readonly spill: () => Promise<void>
  /** Writes the Parquet file and releases the table. */
  readonly finish: (outPath: string) => Promise<void>
  readonly abort: () => Promise<void>
}

/**
 * Bytes of appended data per part: a sixteenth of this instance's memory share, at most 32 MiB.
 * Merging parts reads one row group per DuckDB thread and buffers one for the writer; measured with
 * 80 KB pages, parts of share/8 ran out of memory in that merge and share/16 did not.
 */
const partBytes = (): number => {
  const share = Number(process.env[DUCKDB_MEMORY_ENV])
  return Math.max(1 << 20, Math.min(32 << 20, Number.isFinite(share) && share > 0 ? Math.floor(share / 16) : 32 << 20))
}

/** About how many bytes a value takes in a table (strings by length; the rest a fixed guess). */
const approxBytes = (v: unknown): number =>
  typeof v === "string"
    ? v.length + 16
    : Array.isArray(v)
      ? typeof v[0] === "number"
        ? 16 + 8 * v.length
        : 16 + v.reduce<number>((a, x) => a + approxBytes(x), 0)
      : v && typeof v === "object"
        ? Object.values(v).reduce<number>((a, x) => a + approxBytes(x), 16)
        : 8

/**
 * Lists of integers (token ids) are appended as their decimal text and cast back when the table is
 * written: appending them as DuckDB list values costs a native value object per element, which held
 * ~1 GB of RSS while tokenizing 10 MB of text; text costs a few bytes per id.
 */
const isIntList = (t: ColumnType): boolean => t.kind === "list" && t.of.kind === "int"

/** The table's columns as the Parquet file has them (int lists parsed back from their text). */
const writtenColumns = (columns: ReadonlyArray<Column>): string =>
  columns
    .map((c) => {
      const q = quoteIdent(c.name)
      return isIntList(c.type) ? `CASE WHEN ${q} = '' THEN []::BIGINT[] ELSE string_split(${q}, ',')::BIGINT[] END AS ${q}` : q
    })
    .join(", ")

export const openShardSink = async (columns: ReadonlyArray<Column>, limit = partBytes()): Promise<ShardSink> => {
  const m = await loadDuck()
  const conn = await connect()
  const table = `shard_${process.pid}_${++tableCounter}_${Math.random().toString(36).slice(2, 8)}`
  const ddl = columns.map((c) => `${quoteIdent(c.name)} ${isIntList(c.type) ? "VARCHAR" : duckdbType(c.type)}`).join(", ")
  const source = columns.some((c) => isIntList(c.type)) ? `(SELECT ${writtenColumns(columns)} FROM ${table})` : table
  const intList = columns.map((c) => isIntList(c.type))
  await conn.run(`CREATE TABLE ${table} (${ddl})`)
  let appender = await conn.createAppender(table)
  const types = columns.map((c) => duckTypeFor(m, c.type))
  let count = 0
  let bytes = 0
  let spilled = 0
  let closed = false
  const parts: Array<{ path: string; rows: number }> = []
  let partRows = 0
  const writePart = async () => {
    appender.flushSync()
    appender.closeSync()
    const part = tempName(process.env[DUCKDB_TEMP_ENV] ?? os.tmpdir(), `${table}-part${parts.length}.parquet`)
    await conn.run(`COPY ${source} TO ${sqlString(part)} (${SHARD_FORMAT})`)
    parts.push({ path: part, rows: partRows })
    partRows = 0
    spilled += bytes
    bytes = 0
    // DROP, not DELETE: deleted rows keep their memory in an in-memory database until it checkpoints.
    await conn.run(`DROP TABLE ${table}`)
    await conn.run(`CREATE TABLE ${table} (${ddl})`)
    appender = await conn.createAppender(table)
  }
  const removeParts = () => {
    for (const p of parts) fs.rmSync(p.path, { force: true })
  }
  const drop = async () => {
    if (closed) return
    closed = true
    try {
      appender.closeSync()
    } catch {
      /* already closed */
    }
    await conn.run(`DROP TABLE IF EXISTS ${table}`)
    conn.closeSync()
    removeParts()
  }
  return {
    append: (row) => {
      count++
      partRows++
      for (let i = 0; i < columns.length; i++) {
        const col = columns[i]!
        const v = row[col.name]
        if (v === null || v === undefined) {
          if (!col.nullable) throw new RowTypeError(`row ${count}: column "${col.name}" is required but missing`)
          appender.appendNull()
          continue
        }
        expectKind(col, v, count)
        switch (col.type.kind) {
          case "string":
            appender.appendVarchar(v as string)
            bytes += (v as string).length + 16
            break
          case "double":
            appender.appendDouble(v as number)
            bytes += 8
            break
          case "int":
            appender.appendBigInt(BigInt(v as number))
            bytes += 8
            break
          case "bool":
            appender.appendBoolean(v as boolean)
            bytes += 8
            break
          default:
            if (intList[i]) {
              const ids = v as ReadonlyArray<number>
              for (const x of ids) if (!Number.isInteger(x)) throw new RowTypeError(`row ${count}: column "${col.name}" expects integers, got ${JSON.stringify(x)}`)
              const text = ids.join(",")
              appender.appendVarchar(text)
              bytes += text.length + 16
            } else {
              appender.appendValue(duckValueFor(m, col.type, v), types[i])
              bytes += approxBytes(v)
            }
        }
      }
      appender.endRow()
    },
    rows: () => count,
    size: () => spilled + bytes,
    finish: async (outPath) => {
      if (parts.length === 0) {
        appender.flushSync()
        appender.closeSync()
        await conn.run(`COPY ${source} TO ${sqlString(outPath)} (${SHARD_FORMAT})`)
      } else {
        if (partRows > 0) await writePart()
        appender.closeSync()
        const rowsPerGroup = Math.max(1, Math.ceil(count / parts.length))
        await conn.run(`COPY (SELECT * FROM read_parquet([${parts.map((p) => sqlString(p.path)).join(", ")}])) TO ${sqlString(outPath)} (${SHARD_FORMAT}, ROW_GROUP_SIZE ${rowsPerGroup})`)
      }
      await drop()
    },
    abort: drop,
    full: () => bytes >= limit,
    spill: writePart,
  }
}

/** Streams the rows of one Parquet shard as plain objects shaped by `columns`. */
export async function* readShardRows(file: string, columns: ReadonlyArray<Column>): AsyncGenerator<Record<string, unknown>> {
  const conn = await connect()
  try {
    const sel = columns.map((c) => quoteIdent(c.name)).join(", ")
    const result = await conn.stream(`SELECT ${sel} FROM read_parquet(${sqlString(file)})`)
    const needsFix = columns.some((c) => c.type.kind === "int" || c.type.kind === "list" || c.type.kind === "struct")
    for await (const batch of result.yieldRowObjectJs()) {
      for (const raw of batch) {
        if (!needsFix) {
          yield raw as Record<string, unknown>
          continue
        }
        const row: Record<string, unknown> = {}
        for (const c of columns) row[c.name] = fromDuckValue(c.type, raw[c.name])
        yield row
      }
    }
  } finally {
    conn.closeSync()
  }
}

/** Runs a query and returns rows with BIGINTs as numbers (JSON-safe). */
export const queryRows = async (conn: Duck.DuckDBConnection, sql: string): Promise<{ columns: ReadonlyArray<string>; rows: ReadonlyArray<Record<string, unknown>> }> => {
  const reader = await conn.runAndReadAll(sql)
  const columns = reader.columnNames()
  const rows = reader.getRowObjectsJS().map((r) => {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r)) o[k] = jsSafe(v)
    return o
  })
  return { columns, rows }
}

export const jsSafe = (v: unknown): unknown => {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (Array.isArray(v)) return v.map(jsSafe)
  if (v instanceof Date) return v.toISOString()
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsSafe(x)]))
  return v
}

/** The DuckDB service as a Layer, for code that wants it through the Effect context. */
export class DuckDB extends Context.Tag("mathdag/DuckDB")<DuckDB, { readonly connect: () => Promise<Duck.DuckDBConnection> }>() {
  static readonly layer = Layer.succeed(DuckDB, { connect })
}

export const withConnection = <A>(f: (c: Duck.DuckDBConnection) => Promise<A>): Effect.Effect<A, unknown> =>
  Effect.acquireUseRelease(
    Effect.promise(connect),
    (c) => Effect.tryPromise({ try: () => f(c), catch: (e) => e }),
    (c) => Effect.sync(() => c.closeSync())
  )
