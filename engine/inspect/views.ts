/**
 * `dag sql`: a DuckDB session with one view per dataset output of a run, and nothing else.
 * Read-only by construction: views are created first, then file access is limited to the exact
 * shard files and the configuration is locked; statements other than SELECT/EXPLAIN are refused.
 */
import type * as Duck from "@duckdb/node-api"
import { Effect } from "effect"
import { quoteIdent } from "../columns.js"
import { SqlError } from "../errors.js"
import { didYouMean } from "../suggest.js"
import type { RunRecord } from "../journal.js"
import { viewSql } from "../exec/run-global.js"
import { jsSafe, newInstance, sqlString } from "../store/duckdb.js"
import type { DatasetManifest, Store } from "../store/store.js"

export interface View {
  readonly name: string
  readonly node: string
  readonly output: string
  readonly rows: number
  readonly shards: number
}

export const viewName = (node: string, output: string, outputCount: number): string => {
  const base = node.replace(/[/-]/g, "_")
  return outputCount > 1 ? `${base}__${output}` : base
}

export interface SqlSession {
  readonly views: ReadonlyArray<View>
  /** Points the temporary view `name` at an existing view (reports use `self`); undefined removes it. */
  readonly alias: (name: string, view: string | undefined) => Effect.Effect<void, SqlError>
  readonly query: (sql: string) => Effect.Effect<{ columns: ReadonlyArray<string>; rows: ReadonlyArray<Record<string, unknown>> }, SqlError>
  readonly close: () => void
}

const SELECT = 1
const EXPLAIN = 4
const READ_ONLY_TYPES = new Set([SELECT, EXPLAIN])
const READ_ONLY = "dag sql is read-only: only SELECT queries (and EXPLAIN of one, DESCRIBE, SUMMARIZE) run here; export with `dag export` to write files"

/**
 * Whether an EXPLAIN statement explains a SELECT: the statement after EXPLAIN [ANALYZE] is given to
 * DuckDB's parser on its own and must be of type SELECT. Only a query of one statement may EXPLAIN.
 */
const explainsSelect = async (conn: Awaited<ReturnType<Awaited<ReturnType<typeof newInstance>>["connect"]>>, sql: string, count: number): Promise<boolean> => {
  if (count !== 1) return false
  const inner = sql.replace(/^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?/i, "")
  if (inner === sql) return false
  try {
    const statements = await conn.extractStatements(inner)
    return statements.count === 1 && ((await statements.prepare(0)).statementType as number) === SELECT
  } catch {
    return false
  }
}

/** Whether a query may read a view: it names it (a table function taking a name counts as naming all). */
export const mayRead = (sql: string, name: string): boolean => /query_table|\bquery\s*\(/i.test(sql) || new RegExp(`\\b${name}\\b`, "i").test(sql)

export interface SessionOptions {
  /** only these nodes' outputs become views */
  readonly only?: ReadonlySet<string>
  /**
   * false skips the integrity check on reads: only for the benchmark that measures what the
   * check costs (DAG_UNCHECKED_READS=1).
   */
  readonly verify?: boolean
  /** the query about to be run, when known: its shards are checked while DuckDB starts */
  readonly expect?: string
}

/** A view a session would create: where its rows are, and the artifact they are. */
export interface PlannedView extends View {
  /** the output's artifact id: equal ids, equal rows */
  readonly artifact: string
  readonly columns: DatasetManifest["columns"]
  readonly objects: ReadonlyArray<{ hash: string; ext: string }>
  readonly paths: ReadonlyArray<string>
}

/**
 * The views of a run's dataset outputs, read from the store's manifests alone (no DuckDB), and
 * the views that cannot be made now, with what to do about each.
 */
export const planViews = (store: Store, run: RunRecord, only?: ReadonlySet<string>): { planned: ReadonlyArray<PlannedView>; unavailable: ReadonlyMap<string, string> } => {
  const planned: Array<PlannedView> = []
  const unavailable = new Map<string, string>()
  for (const n of run.nodes) {
    if (only && !only.has(n.node)) continue
    const outs = Object.entries(n.outputs)
    for (const [output, id] of outs) {
      const m = store.outputManifest(id, n.key, output)
      if (!m || m.kind !== "dataset") continue
      const name = viewName(n.node, output, outs.length)
      const missing = m.shards.filter((s) => !store.hasObject(s.hash, ".parquet", s.bytes))
      if (missing.length > 0) {
        // The other views stay usable; this one answers with what to do.
        unavailable.set(name, `${missing.length} shard(s) of ${n.node}.${output} (view ${name}) are missing or truncated; run \`dag run ${run.pipeline}\` to recompute them`)
        continue
      }
      planned.push({
        name,
        node: n.node,
        output,
        rows: m.rows,
        shards: m.shards.length,
        artifact: id,
        columns: m.columns,
        objects: m.shards.map((sh) => ({ hash: sh.hash, ext: ".parquet" })),
        paths: m.shards.map((sh) => store.objectPath(sh.hash, ".parquet")),
      })
    }
  }
  return { planned, unavailable }
}

/**
 * Opens the views of a run. Every read is checked: the shards of each view a query names are
 * digested (once per session) while DuckDB runs the query, and rows are only returned once the
 * check passed, so altered bytes never reach the user.
 */
export const openSqlSession = (store: Store, run: RunRecord, options: SessionOptions = {}): Effect.Effect<SqlSession, SqlError> => {
  const verify = options.verify ?? true
  const { planned, unavailable } = planViews(store, run, options.only)
  const checks = new Map<string, Promise<void>>()
  const aliases = new Map<string, string>()
  const checkView = (name: string): Promise<void> => {
    let c = checks.get(name)
    if (!c) {
      const objects = planned.find((v) => v.name === name)?.objects ?? []
      c = verify ? Effect.runPromise(store.verifyObjects(objects).pipe(Effect.mapError((e) => new CorruptRead(e.message)))) : Promise.resolve()
      c.catch(() => {}) // observed by the query that needs it
      checks.set(name, c)
    }
    return c
  }
  const checkReads = async (sql: string): Promise<void> => {
    for (const [name, why] of unavailable) if (mayRead(sql, name)) throw new CorruptRead(why)
    const names = [...planned.map((v) => v.name), ...aliases.keys()].filter((n) => mayRead(sql, n)).map((n) => aliases.get(n) ?? n)
    await Promise.all([...new Set(names)].map(checkView))
  }
  return Effect.tryPromise({
    try: async () => {
      // The expected query's shards are digested while DuckDB starts (it mostly waits on one core).
      const early = options.expect
        ? checkReads(options.expect).then(
            () => undefined,
            (e: unknown) => e
          )
        : Promise.resolve(undefined)
      try {
        const inst = await newInstance()
        const conn = await inst.connect()
        for (const v of planned) await conn.run(`CREATE VIEW ${quoteIdent(v.name)} AS ${viewSql(v.columns, v.paths)}`)
        await conn.run(
          `SET allowed_paths=[${planned
            .flatMap((v) => v.paths)
            .map(sqlString)
            .join(", ")}]`
        )
        await conn.run(`SET enable_external_access=false`)
        await conn.run(`SET lock_configuration=true`)
        return conn
      } catch (e) {
        // A shard the check moved aside makes DuckDB's view fail to bind: the check says what happened.
        throw (await early) ?? e
      }
    },
    catch: (e) => new SqlError({ message: e instanceof CorruptRead ? e.message : `could not open the run's views: ${(e as Error).message}` }),
  }).pipe(
    Effect.map((conn) => ({
      views: planned.map(({ name, node, output, rows, shards }) => ({ name, node, output, rows, shards })),
      alias: (name: string, view: string | undefined) =>
        Effect.tryPromise({
          try: () =>
            view === undefined
              ? conn.run(`DROP VIEW IF EXISTS temp.${quoteIdent(name)}`).then(() => void aliases.delete(name))
              : conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${quoteIdent(view)}`).then(() => void aliases.set(name, view)),
          catch: (e) => new SqlError({ message: (e as Error).message }),
        }),
      query: (sql: string) =>
        Effect.tryPromise({
          try: async () => {
            const execute = async () => {
              const statements = await conn.extractStatements(sql)
              if (statements.count === 0) throw new Error("empty query")
              const prepared: Array<Duck.DuckDBPreparedStatement> = []
              for (let i = 0; i < statements.count; i++) {
                const p = await statements.prepare(i)
                if (!READ_ONLY_TYPES.has(p.statementType as number)) throw new Error(READ_ONLY)
                // EXPLAIN ANALYZE runs its statement: DuckDB's parser must also find a SELECT inside it
                if ((p.statementType as number) === EXPLAIN && !(await explainsSelect(conn, sql, statements.count))) throw new Error(READ_ONLY)
                prepared.push(p)
              }
              let last: Awaited<ReturnType<typeof runPrepared>> | undefined
              for (const p of prepared) last = await runPrepared(p)
              return last!
            }
            const [rows, check] = await Promise.allSettled([execute(), checkReads(sql)])
            // A failed check wins: DuckDB's error on damaged (or moved) bytes would not say what happened.
            if (check.status === "rejected") throw check.reason
            if (rows.status === "rejected") throw rows.reason
            return rows.value
          },
          catch: (e) => {
            if (e instanceof CorruptRead) return new SqlError({ message: e.message })
            const first = (e as Error).message.split("\n")[0] ?? String(e)
            if (/Permission Error|disabled by configuration|locked/.test(first))
              return new SqlError({ message: `dag sql is read-only and sees only the run's views (${first}); use \`dag export\` to write files` })
            // DuckDB suggests a name only sometimes; the run's views are what a user can mean
            const unknown = /Table with name (\S+) does not exist/i.exec(first)
            if (unknown && !/did you mean/i.test(first))
              return new SqlError({
                message: `${first}${didYouMean(
                  unknown[1]!,
                  planned.map((v) => v.name)
                )} (\`dag ls --run ${run.run}\` lists this run's views)`,
              })
            return new SqlError({ message: first })
          },
        }),
      close: () => conn.closeSync(),
    }))
  )
}

class CorruptRead extends Error {}

const runPrepared = async (prepared: Duck.DuckDBPreparedStatement) => {
  const reader = await prepared.runAndReadAll()
  const columns = reader.columnNames()
  const rows = reader.getRowObjectsJS().map((r) => jsSafe(r) as Record<string, unknown>)
  return { columns, rows }
}
