/**
 * The report's queries, answered from what earlier reports computed where nothing they read has
 * changed. A result is keyed by its SQL and by the artifact each view it may read stands for
 * (aliases such as `self` resolved); artifacts are content-addressed, so an equal key means equal
 * rows. A re-run where nothing changed then renders its report without starting DuckDB or
 * reading a shard, and a run that changed one node queries that node's views alone.
 *
 * Results are kept as derived entries of the store (store/derived-cache.ts).
 */
import { Effect, Either } from "effect"
import { SqlError } from "../errors.js"
import { hashStruct } from "../hash.js"
import type { RunRecord } from "../journal.js"
import { mayRead, openSqlSession, planViews, type PlannedView, type SqlSession } from "../inspect/views.js"
import { runtimeFacts } from "../exec/runner.js"
import { readDerived, writeDerived } from "../store/derived-cache.js"
import type { Store } from "../store/store.js"

/** Bumped when what a cached result holds changes meaning. */
const FORMAT = 1

export interface Rows {
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Record<string, unknown>>
}

/** SQL whose rows may change with nothing it names: the clock, randomness, the catalog. */
const UNKEYED =
  /\b(now|today|current_date|current_time|current_timestamp|localtime|localtimestamp|random|setseed|uuid|gen_random_uuid|pragma|show)\b|information_schema|\bduckdb_\w+\s*\(|\bquery(_table)?\s*\(/i

const isRows = (v: unknown): v is Rows => typeof v === "object" && v !== null && Array.isArray((v as Rows).columns) && Array.isArray((v as Rows).rows)

export interface ReportQueries {
  /** the views a query may name (no DuckDB needed to list them) */
  readonly views: ReadonlyArray<PlannedView>
  /** runs `sql`, where `aliases` maps names such as `self` to views */
  readonly query: (sql: string, aliases?: ReadonlyMap<string, string>) => Effect.Effect<Either.Either<Rows, SqlError>>
  /** why DuckDB could not be opened, when it was needed and could not */
  readonly openError: () => string | undefined
  /** how many queries were answered from the cache, and how many ran */
  readonly counts: () => { readonly cached: number; readonly ran: number }
  readonly close: () => void
}

/** The report's queries over the views of `only`'s nodes in `run`; DuckDB starts at the first miss. */
export const reportQueries = (store: Store, run: RunRecord, only: ReadonlySet<string>): ReportQueries => {
  const { planned, unavailable } = planViews(store, run, only)
  const artifactOf = new Map(planned.map((v) => [v.name, v.artifact]))
  // the store format and DuckDB's version: a new DuckDB may answer the same SQL differently
  const runtime = runtimeFacts()
  let session: Either.Either<SqlSession, SqlError> | undefined
  const applied = new Map<string, string>()
  let cached = 0
  let ran = 0

  /**
   * The artifact of every view the query may read, or undefined where its rows may depend on more
   * than those (a view that cannot be named, the catalog, the clock) and must not be kept.
   */
  const refsOf = (sql: string, aliases: ReadonlyMap<string, string>): Record<string, string> | undefined => {
    if (UNKEYED.test(sql)) return undefined
    // a `self…` name this query has no target for would read whatever an earlier node pointed it at
    for (const m of sql.matchAll(/\bself(?:_\w+)?\b/gi)) if (!aliases.has(m[0])) return undefined
    const refs: Record<string, string> = {}
    for (const name of unavailable.keys()) if (mayRead(sql, name)) return undefined
    for (const v of planned) if (mayRead(sql, v.name)) refs[v.name] = v.artifact
    for (const [alias, target] of aliases) {
      if (!mayRead(sql, alias)) continue
      const id = artifactOf.get(target)
      if (id === undefined) return undefined
      refs[alias] = id
    }
    return Object.keys(refs).length > 0 ? refs : undefined
  }

  const open = Effect.gen(function* () {
    session ??= yield* openSqlSession(store, run, { only }).pipe(Effect.either)
    return session
  })

  const query = (sql: string, aliases: ReadonlyMap<string, string> = new Map()) =>
    Effect.gen(function* () {
      const refs = refsOf(sql, aliases)
      const key = refs ? hashStruct({ format: FORMAT, runtime, sql, refs }) : undefined
      const hit = key ? readDerived(store, key) : undefined
      if (isRows(hit)) {
        cached++
        return Either.right(hit)
      }
      const s = yield* open
      if (Either.isLeft(s)) return Either.left(s.left)
      // an alias another node set is not this query's: removed, so the query fails as it would alone
      for (const alias of [...applied.keys()]) {
        if (aliases.has(alias) || !mayRead(sql, alias)) continue
        yield* s.right.alias(alias, undefined).pipe(Effect.ignore)
        applied.delete(alias)
      }
      for (const [alias, target] of aliases) {
        if (applied.get(alias) === target || !mayRead(sql, alias)) continue
        const a = yield* s.right.alias(alias, target).pipe(Effect.either)
        if (Either.isLeft(a)) return Either.left(a.left)
        applied.set(alias, target)
      }
      ran++
      const r = yield* s.right.query(sql).pipe(Effect.either)
      if (Either.isRight(r) && key && refs) writeDerived(store, key, refs, r.right)
      return r
    })

  return {
    views: planned,
    query,
    openError: () => (session && Either.isLeft(session) ? session.left.message : undefined),
    counts: () => ({ cached, ran }),
    close: () => {
      if (session && Either.isRight(session)) session.right.close()
    },
  }
}
