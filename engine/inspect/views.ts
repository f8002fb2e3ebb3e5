/**
 * `dag sql`: a DuckDB session with one view per dataset output of a run, and nothing else.
 * Read-only by construction: views are created first, then file access is limited to the exact
 * shard files and the configuration is locked; statements other than SELECT/EXPLAIN are refused.
 */
import type * as Duck from "@duckdb/node-api"
import { Effect } from "effect"
import { quoteIdent } from "../columns.js"
import { SqlError } from "../errors.js"
import type { RunRecord } from "../journal.js"
import { viewSql } from "../exec/global-context.js"
import { jsSafe, newInstance, queryRows, sqlString } from "../store/duckdb.js"
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
  /** Points the temporary view `name` at an existing view (reports use `self`). */
  readonly alias: (name: string, view: string) => Effect.Effect<void, SqlError>
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

export const openSqlSession = (store: Store, run: RunRecord, only?: ReadonlySet<string>): Effect.Effect<SqlSession, SqlError> =>
  Effect.tryPromise({
    try: async () => {
      const inst = await newInstance()
      const conn = await inst.connect()
      const views: Array<View> = []
      const allowed: Array<string> = []
      for (const n of run.nodes) {
        if (only && !only.has(n.node)) continue
        const outs = Object.entries(n.outputs)
        for (const [output, id] of outs) {
          const m = store.getArtifact(id)
          if (!m || m.kind !== "dataset") continue
          const missing = (m as DatasetManifest).shards.filter((s) => !store.hasObject(s.hash, ".parquet", s.bytes))
          if (missing.length > 0) {
            throw new Error(`${missing.length} shard(s) of ${n.node}.${output} are missing or truncated; run \`dag run ${run.pipeline}\` to recompute them`)
          }
          const paths = m.shards.map((s) => store.objectPath(s.hash, ".parquet"))
          allowed.push(...paths)
          const name = viewName(n.node, output, outs.length)
          await conn.run(`CREATE VIEW ${quoteIdent(name)} AS ${viewSql(m.columns, paths)}`)
          views.push({ name, node: n.node, output, rows: m.rows, shards: m.shards.length })
        }
      }
      await conn.run(`SET allowed_paths=[${allowed.map(sqlString).join(", ")}]`)
      await conn.run(`SET enable_external_access=false`)
      await conn.run(`SET lock_configuration=true`)
      return { conn, views }
    },
    catch: (e) => new SqlError({ message: `could not open the run's views: ${(e as Error).message}` }),
  }).pipe(
    Effect.map(({ conn, views }) => ({
      views,
      alias: (name: string, view: string) =>
        Effect.tryPromise({
          try: () => conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM ${quoteIdent(view)}`).then(() => undefined),
          catch: (e) => new SqlError({ message: (e as Error).message }),
        }),
      query: (sql: string) =>
        Effect.tryPromise({
          try: async () => {
            const statements = await conn.extractStatements(sql)
            if (statements.count === 0) throw new Error("empty query")
            let last: Awaited<ReturnType<typeof queryRows>> | undefined
            for (let i = 0; i < statements.count; i++) {
              const prepared = await statements.prepare(i)
              if (!READ_ONLY_TYPES.has(prepared.statementType as number)) throw new Error(READ_ONLY)
              // EXPLAIN ANALYZE runs its statement: DuckDB's parser must also find a SELECT inside it
              if ((prepared.statementType as number) === EXPLAIN && !(await explainsSelect(conn, sql, statements.count))) throw new Error(READ_ONLY)
              last = await runPrepared(prepared)
            }
            return last!
          },
          catch: (e) => {
            const first = (e as Error).message.split("\n")[0] ?? String(e)
            return new SqlError({
              message: /Permission Error|disabled by configuration|locked/.test(first)
                ? `dag sql is read-only and sees only the run's views (${first}); use \`dag export\` to write files`
                : first,
            })
          },
        }),
      close: () => conn.closeSync(),
    }))
  )

const runPrepared = async (prepared: Duck.DuckDBPreparedStatement) => {
  const reader = await prepared.runAndReadAll()
  const columns = reader.columnNames()
  const rows = reader.getRowObjectsJS().map((r) => jsSafe(r) as Record<string, unknown>)
  return { columns, rows }
}
