/**
 * One memory budget for a run (`memory` in dag.config.ts, `--memory 4GB`, DAG_MEMORY), split into
 * shares for the DuckDB instances that may be busy at once: one per worker thread, two for the main
 * thread's (global nodes, inline shards). DuckDB gets its share as `memory_limit` and spills to a
 * folder under the store's tmp/ beyond it, so a sort, join or shard table larger than the share
 * goes to disk instead of growing the process.
 */
import * as os from "node:os"

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
}

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

export const formatBytes = (n: number): string => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${Math.round(n / 1024 ** 2)} MiB` : `${Math.round(n / 1024)} KiB`)

/** The smallest share DuckDB is given: below this its own operators stop working well. */
export const MIN_SHARE = 128 * 1024 ** 2

/**
 * The default share per DuckDB instance. Measured on 8,000 real pages in one WARC (bench/scale, two
 * workers): DuckDB keeps the buffers it is allowed, so the share shows up in RSS almost one to one
 * (1 GiB shares: 2.6 GB peak; 256 MiB: 1.55 GB; 170 MiB: 1.17 GB) while speed did not suffer
 * (60 s → 56 s); global sorts and joins beyond the share spill to the store's tmp/.
 */
export const DEFAULT_SHARE = 160 * 1024 ** 2

/**
 * Default budget: DEFAULT_SHARE per DuckDB instance, at most a quarter of the machine's memory (room
 * for Node.js heaps, the page cache and other users of a shared machine), at least MIN_SHARE each.
 */
export const defaultBudget = (workers: number, totalMemory = os.totalmem()): number => Math.max(minimumBudget(workers), Math.min(Math.floor(totalMemory / 4), DEFAULT_SHARE * shares(workers)))

/**
 * Shares of the budget: one per worker thread and two for the main thread, whose instance runs the
 * global nodes (joins, sorts, several nodes at once) while the workers' instances sit idle.
 */
const shares = (workers: number): number => workers + 2

export const minimumBudget = (workers: number): number => MIN_SHARE * shares(workers)

/** One share of the budget (a worker thread's instance; the main thread's has two). */
export const sharePerInstance = (budget: number, workers: number): number => Math.max(MIN_SHARE, Math.floor(budget / shares(workers)))

/** The memory_limit of this thread's DuckDB instance, from the published share. */
export const instanceLimit = (mainThread: boolean): number | undefined => {
  const share = Number(process.env[DUCKDB_MEMORY_ENV])
  return Number.isFinite(share) && share > 0 ? share * (mainThread ? 2 : 1) : undefined
}

/**
 * Default target size of a source shard. 16 MiB of input keeps two shards per core busy on a small
 * input as well as a large one, and a 1 GB Common Crawl WARC becomes ~64 shards; each costs one
 * Parquet file and one manifest entry.
 */
export const DEFAULT_SHARD_BYTES = 16 * 1024 ** 2
export const SHARD_BYTES_ENV = "DAG_SHARD_BYTES"
export const MEMORY_ENV = "DAG_MEMORY"

/** This run's target bytes per shard (`shardBytes` in dag.config.ts, `--shard-bytes`), as published to the environment. */
export const shardBytes = (): number => {
  const n = Number(process.env[SHARD_BYTES_ENV])
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_SHARD_BYTES
}

/** Where worker threads and Slurm tasks find their share: the environment, read when DuckDB opens. */
export const DUCKDB_MEMORY_ENV = "DAG_DUCKDB_MEMORY"
export const DUCKDB_TEMP_ENV = "DAG_DUCKDB_TEMP"

/** Publishes a share for every DuckDB instance this process (and the worker threads it starts) opens. */
export const applyBudget = (budget: number, workers: number, tempDir: string): void => {
  process.env[DUCKDB_MEMORY_ENV] = String(sharePerInstance(budget, workers))
  process.env[DUCKDB_TEMP_ENV] = tempDir
}

/** Where large intermediate files of this run go (the store's tmp/, swept with the run's temporaries). */
export const scratchDir = (): string => process.env[DUCKDB_TEMP_ENV] ?? os.tmpdir()

/**
 * A Slurm task's --mem: a task runs its shards on its main thread, so its DuckDB instance has two
 * shares, plus room for Node.js and what nodes load (tokenizer, models): NODE_OVERHEAD.
 */
export const NODE_OVERHEAD = 640 * 1024 ** 2
export const slurmTaskMem = (budget: number, workers: number): string => `${Math.ceil((2 * sharePerInstance(budget, workers) + NODE_OVERHEAD) / 1024 ** 2)}M`
