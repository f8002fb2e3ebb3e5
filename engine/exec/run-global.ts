/**
 * What a global node sees while it runs: readers over its inputs (verified shards, DuckDB views
 * named after the input keys) and writers that cut rows into shards and commit them.
 */
import { Effect, Exit } from "effect"
import type * as Duck from "@duckdb/node-api"
import * as fs from "node:fs"
import type { Column } from "../columns.js"
import { columnsOf, duckdbType, quoteIdent } from "../columns.js"
import { CorruptShardError, NodeRunError } from "../errors.js"
import type { GlobalContext, GlobalNode, Port, StepProgress } from "../node.js"
import { DropLedger } from "./shard.js"
import { shardBytes } from "../resources/memory.js"
import { connect, jsSafe, openShardSink, queryRows, readShardRows, SHARD_FORMAT, sqlString, type ShardSink } from "../store/duckdb.js"
import { datasetManifest, type FileManifest, type Manifest, type ShardEntry, type Store } from "../store/store.js"

export interface ResolvedInput {
  readonly id: string
  readonly manifest: Manifest
}

export interface GlobalRunResult {
  readonly outputs: Record<string, Manifest>
  readonly dropped: Record<string, number>
  readonly droppedSamples: Record<string, Array<unknown>>
  readonly rowsOut: number
}

const fail = (node: string, message: string, cause?: unknown) => new NodeRunError({ node, message: `node ${node}: ${message}`, transient: false, cause })

/** SQL for a view over a dataset's shards (an empty dataset still has its typed columns). */
export const viewSql = (columns: ReadonlyArray<Column>, paths: ReadonlyArray<string>): string =>
  paths.length > 0
    ? `SELECT ${columns.map((c) => quoteIdent(c.name)).join(", ")} FROM read_parquet([${paths.map(sqlString).join(", ")}])`
    : `SELECT ${columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${quoteIdent(c.name)}`).join(", ")} WHERE false`

/** Appends a JS value with the appender method its type calls for (numbers as DOUBLE unless integral). */
const appendAny = (appender: Duck.DuckDBAppender, v: unknown): void => {
  if (v === null || v === undefined) appender.appendNull()
  else if (typeof v === "string") appender.appendVarchar(v)
  else if (typeof v === "boolean") appender.appendBoolean(v)
  else if (typeof v === "bigint") appender.appendBigInt(v)
  else if (typeof v === "number") Number.isInteger(v) ? appender.appendBigInt(BigInt(v)) : appender.appendDouble(v)
  else throw new Error(`cannot append a ${typeof v}`)
}

let schemaCounter = 0

/**
 * Runs `use` in the scratch folder claimed for `key` (see Store.claimScratch): kept when the node
 * fails or is interrupted, so the next attempt of the same key resumes from it; removed once it
 * succeeds.
 */
export const inScratch = <A, E>(store: Store, key: string, log: (message: string) => void, use: (work: GlobalWork) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    const claim = store.claimScratch(key)
    if (claim.note) log(claim.note)
    return use({ scratch: claim.dir, key }).pipe(Effect.onExit((exit) => Effect.sync(() => claim.release(Exit.isSuccess(exit)))))
  })

/** Where a global node works: its claimed scratch folder and key, and where its progress goes. */
export interface GlobalWork {
  readonly scratch: string
  readonly key: string
  readonly progress?: (p: StepProgress) => void
}

/** Rows per Parquet row group of query outputs: bounds what the writer buffers (a group at a time). */
const QUERY_ROW_GROUP = 2048

export const runGlobal = (
  node: GlobalNode,
  params: unknown,
  inputs: Readonly<Record<string, ResolvedInput>>,
  store: Store,
  log: (message: string) => void,
  work: GlobalWork = { scratch: store.tempPath(`${node.name.replace(/[^a-zA-Z0-9]+/g, "-")}-scratch`), key: "" }
): Effect.Effect<GlobalRunResult, NodeRunError | CorruptShardError> =>
  Effect.gen(function* () {
    const drops = new DropLedger()
    // Verify every input shard before the node starts, so corruption surfaces as a
    // CorruptShardError the scheduler can repair (recompute upstream), not as a node failure.
    const pathsOf: Record<string, ReadonlyArray<string>> = {}
    for (const [name, input] of Object.entries(inputs)) {
      const m = input.manifest
      if (m.kind !== "dataset") continue
      const out: Array<string> = []
      for (const s of m.shards) out.push(yield* store.verifyObject(s.hash, ".parquet"))
      pathsOf[name] = out
    }

    let conn: Duck.DuckDBConnection | undefined
    const schema = `node_${node.name.replace(/[^a-zA-Z0-9]+/g, "_")}_${++schemaCounter}`
    const connection = Effect.gen(function* () {
      if (conn) return conn
      const t0 = performance.now()
      const c = yield* Effect.promise(connect)
      // Global nodes share this thread's DuckDB and may run at once: each works in a schema of its
      // own, so two nodes that both create a table `sig` do not overwrite each other's.
      yield* Effect.promise(() => c.run(`CREATE SCHEMA ${quoteIdent(schema)}; USE memory.${quoteIdent(schema)}`))
      if (process.env.DAG_TRACE_SQL) log(`connect ${(performance.now() - t0).toFixed(0)} ms`)
      for (const [name, input] of Object.entries(inputs)) {
        const m = input.manifest
        if (m.kind !== "dataset") continue
        yield* Effect.promise(() => c.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${viewSql(m.columns, pathsOf[name] ?? [])}`))
      }
      conn = c
      return c
    })

    const shardsOf: Record<string, Array<ShardEntry>> = {}
    const files: Record<string, FileManifest> = {}
    let rowsOut = 0

    const commitShard = (name: string, tmp: string, rows: number) =>
      Effect.tryPromise({ try: () => store.commitObject(tmp, ".parquet"), catch: (e) => fail(node.name, `could not commit a shard of ${name}: ${(e as Error).message}`, e) }).pipe(
        Effect.map(({ hash, bytes }) => {
          ;(shardsOf[name] ??= []).push({ hash, rows, bytes })
          rowsOut += rows
        })
      )

    const datasetWriter = (name: string, port: Port & { _tag: "Dataset" }) => {
      const columns = columnsOf(port.schema)
      let sink: ShardSink | undefined
      const flush = Effect.gen(function* () {
        if (!sink || sink.rows() === 0) return
        const s = sink
        sink = undefined
        const tmp = store.tempPath(`${name}.parquet`)
        yield* Effect.tryPromise({ try: () => s.finish(tmp), catch: (e) => fail(node.name, `writing ${name}: ${(e as Error).message}`, e) })
        yield* commitShard(name, tmp, s.rows())
      })
      return {
        flush,
        writer: {
          write: (rows: Iterable<unknown> | AsyncIterable<unknown>) =>
            Effect.gen(function* () {
              const it = (
                Symbol.asyncIterator in rows
                  ? rows
                  : (async function* () {
                      yield* rows as Iterable<unknown>
                    })()
              ) as AsyncIterable<unknown>
              const iterator = it[Symbol.asyncIterator]()
              while (true) {
                const next = yield* Effect.tryPromise({ try: () => iterator.next(), catch: (e) => fail(node.name, (e as Error).message, e) })
                if (next.done) break
                if (!sink) sink = yield* Effect.promise(() => openShardSink(columns))
                const target = sink
                yield* Effect.try({ try: () => target.append(next.value as Record<string, unknown>), catch: (e) => fail(node.name, `output ${name}: ${(e as Error).message}`, e) })
                if (target.full()) yield* Effect.tryPromise({ try: () => target.spill(), catch: (e) => fail(node.name, `writing ${name}: ${(e as Error).message}`, e) })
                if (target.rows() >= node.rowsPerShard || target.size() >= shardBytes()) yield* flush
              }
            }),
          writeQuery: (query: string) =>
            Effect.gen(function* () {
              yield* flush
              const c = yield* connection
              const tmp = store.tempPath(`${name}.parquet`)
              const select = `SELECT ${columns.map((col) => `CAST(${quoteIdent(col.name)} AS ${duckdbType(col.type)}) AS ${quoteIdent(col.name)}`).join(", ")} FROM (${query})`
              const run = (sql: string) =>
                Effect.tryPromise({ try: async () => (await c.run(sql)).rowsChanged, catch: (e) => fail(node.name, `query for output ${name} failed: ${(e as Error).message}`, e) })
              // Small row groups: DuckDB's Parquet writer holds a whole row group in memory.
              const rows = yield* run(`COPY (${select}) TO ${sqlString(tmp)} (${SHARD_FORMAT}, ROW_GROUP_SIZE ${QUERY_ROW_GROUP})`)
              if (rows === 0) return fs.rmSync(tmp, { force: true })
              // A large result becomes several shards (by rows and by bytes), so what reads it runs in parallel.
              // (compressed bytes against a quarter of shardBytes: about the raw size a source shard reads)
              const count = Math.max(Math.ceil(rows / node.rowsPerShard), Math.ceil(fs.statSync(tmp).size / (shardBytes() / 4)))
              if (count <= 1) return yield* commitShard(name, tmp, rows)
              const per = Math.ceil(rows / count)
              for (let start = 0; start < rows; start += per) {
                const part = store.tempPath(`${name}.parquet`)
                const n = yield* run(
                  `COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(tmp)}, file_row_number = true) WHERE file_row_number >= ${start} AND file_row_number < ${start + per}) TO ${sqlString(part)} (${SHARD_FORMAT}, ROW_GROUP_SIZE ${QUERY_ROW_GROUP})`
                )
                yield* commitShard(name, part, n)
              }
              fs.rmSync(tmp, { force: true })
            }),
        },
      }
    }

    const fileWriter = (name: string, port: Port & { _tag: "File" }) => ({
      write: (fill: (p: string) => Promise<void>) =>
        Effect.gen(function* () {
          const tmp = store.tempPath(`${name}.${port.extension}`)
          yield* Effect.tryPromise({ try: () => fill(tmp), catch: (e) => fail(node.name, `writing file ${name}: ${(e as Error).message}`, e) })
          const { hash, bytes } = yield* Effect.tryPromise({
            try: () => store.commitObject(tmp, `.${port.extension}`),
            catch: (e) => fail(node.name, `committing ${name}: ${(e as Error).message}`, e),
          })
          files[name] = { kind: "file", extension: port.extension, hash, bytes, ...(port.fileName ? { fileName: port.fileName } : {}) }
        }),
    })

    const writers: Record<string, unknown> = {}
    const flushes: Array<Effect.Effect<void, NodeRunError>> = []
    for (const [name, port] of Object.entries(node.outputs as Record<string, Port>)) {
      if (port._tag === "Dataset") {
        const w = datasetWriter(name, port)
        writers[name] = w.writer
        flushes.push(w.flush)
      } else writers[name] = fileWriter(name, port)
    }

    const readers: Record<string, unknown> = {}
    for (const [name, input] of Object.entries(inputs)) {
      const m = input.manifest
      if (m.kind === "dataset") {
        readers[name] = {
          shards: m.shards.map((s) => s.hash),
          rowCount: m.rows,
          paths: () => Effect.succeed(pathsOf[name] ?? []),
          rows: async function* () {
            for (const p of pathsOf[name] ?? []) yield* readShardRows(p, m.columns)
          },
        }
      } else {
        readers[name] = { path: () => store.verifyObject(m.hash, `.${m.extension}`).pipe(Effect.mapError((e) => fail(node.name, e.message, e))) }
      }
    }

    const ctx: GlobalContext<unknown, Record<string, Port>, Record<string, Port>> = {
      params,
      inputs: readers as never,
      outputs: writers as never,
      sql: (query) =>
        Effect.gen(function* () {
          const c = yield* connection
          const t0 = performance.now()
          const r = yield* Effect.tryPromise({ try: () => queryRows(c, query), catch: (e) => fail(node.name, `SQL failed: ${(e as Error).message}`, e) })
          if (process.env.DAG_TRACE_SQL) log(`sql ${(performance.now() - t0).toFixed(0)} ms: ${query.replace(/\s+/g, " ").slice(0, 100)}`)
          return r.rows
        }),
      stream: (query) =>
        Effect.gen(function* () {
          const c = yield* connection
          const result = yield* Effect.tryPromise({ try: () => c.stream(query), catch: (e) => fail(node.name, `SQL failed: ${(e as Error).message}`, e) })
          return (async function* () {
            for await (const batch of result.yieldRowObjectJs()) for (const row of batch) yield jsSafe(row) as Record<string, unknown>
          })()
        }),
      table: (name, columns, rows) =>
        Effect.gen(function* () {
          const c = yield* connection
          return yield* Effect.tryPromise({
            try: async () => {
              const ddl = Object.entries(columns)
                .map(([k, t]) => `${quoteIdent(k)} ${t}`)
                .join(", ")
              await c.run(`CREATE OR REPLACE TABLE ${quoteIdent(name)} (${ddl})`)
              const appender = await c.createAppender(name, schema)
              let n = 0
              try {
                for await (const row of rows as AsyncIterable<ReadonlyArray<unknown>>) {
                  for (const v of row) appendAny(appender, v)
                  appender.endRow()
                  if (++n % 100_000 === 0) appender.flushSync()
                }
              } finally {
                appender.flushSync()
                appender.closeSync()
              }
              return n
            },
            catch: (e) => fail(node.name, `filling table ${name}: ${(e as Error).message}`, e),
          })
        }),
      scratch: work.scratch,
      key: work.key,
      drop: (reason, count = 1, sample) => {
        drops.drop(reason, sample)
        drops.counts[reason] = (drops.counts[reason] ?? 0) + count - 1
      },
      log,
      progress: work.progress ?? (() => {}),
    }

    yield* node.run(ctx).pipe(
      Effect.ensuring(
        Effect.promise(async () => {
          if (!conn) return
          await conn.run(`USE memory.main; DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined)
          conn.closeSync()
        })
      )
    )
    for (const f of flushes) yield* f

    const outputs: Record<string, Manifest> = {}
    for (const [name, port] of Object.entries(node.outputs as Record<string, Port>)) {
      if (port._tag === "Dataset") {
        outputs[name] = datasetManifest(columnsOf(port.schema), shardsOf[name] ?? [])
      } else {
        const f = files[name]
        if (!f) return yield* Effect.fail(fail(node.name, `did not write its file output "${name}"`))
        outputs[name] = f
      }
    }
    return { outputs, dropped: drops.counts, droppedSamples: drops.samples, rowsOut }
  })
