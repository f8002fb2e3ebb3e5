/**
 * One memory budget for a run (`memory` in dag.config.ts, `--memory 4GB`, DAG_MEMORY), split evenly
 * across the DuckDB instances that may be busy at once: one per worker thread plus the main
 * thread's (global nodes, inline shards). DuckDB gets its share as `memory_limit` and spills to a
 * folder under the store's tmp/ beyond it, so a sort, join or shard table larger than the share
 * goes to disk instead of growing the process.
 */
import * as os from "node:os"

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 }

/** Parses "4GB", "512M", "1.5GiB" or a number of bytes; undefined when it is not a size. */
export const parseBytes = (spec: string | number): number | undefined => {
  if (typeof spec === "number") return Number.isFinite(spec) && spec > 0 ? Math.floor(spec) : undefined
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(spec)
  if (!m) return undefined
  const unit = UNITS[m[2]!.toLowerCase()]
  if (unit === undefined) return undefined
  const n = Math.floor(Number(m[1]) * unit)
  return n > 0 ? n : undefined
}

export const formatBytes = (n: number): string =>
  n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${Math.round(n / 1024 ** 2)} MiB` : `${Math.round(n / 1024)} KiB`

/** The smallest share DuckDB is given: below this its own operators stop working well. */
export const MIN_SHARE = 128 * 1024 ** 2

/**
 * Default budget: a quarter of the machine's memory, at most 1 GiB per DuckDB instance. A quarter
 * leaves room for Node.js heaps, the page cache and other users of a shared machine; the cap per
 * instance keeps a many-core machine from reserving memory that bounded shards never need.
 */
export const defaultBudget = (workers: number, totalMemory = os.totalmem()): number =>
  Math.max(MIN_SHARE * (workers + 1), Math.min(Math.floor(totalMemory / 4), 1024 ** 3 * (workers + 1)))

/** One DuckDB instance's share of the budget. */
export const sharePerInstance = (budget: number, workers: number): number => Math.max(MIN_SHARE, Math.floor(budget / (workers + 1)))

/** Where worker threads and Slurm tasks find their share: the environment, read when DuckDB opens. */
export const DUCKDB_MEMORY_ENV = "DAG_DUCKDB_MEMORY"
export const DUCKDB_TEMP_ENV = "DAG_DUCKDB_TEMP"

/** Publishes a share for every DuckDB instance this process (and the worker threads it starts) opens. */
export const applyBudget = (budget: number, workers: number, tempDir: string): void => {
  process.env[DUCKDB_MEMORY_ENV] = String(sharePerInstance(budget, workers))
  process.env[DUCKDB_TEMP_ENV] = tempDir
}
