/**
 * dag.config.ts: `export default defineConfig({...})`, validated by Schema when the CLI loads it.
 * Relative paths resolve against the project root. DAG_STORE and DAG_RUNS override the store
 * and runs folders (tests and CI point them at temporary directories).
 */
import { Either, ParseResult, Schema } from "effect"
import type { Extension } from "./extension.js"
import * as os from "node:os"
import * as path from "node:path"
import * as fs from "node:fs"
import { didYouMean } from "./suggest.js"
import { ConfigError } from "./errors.js"
import { SlurmConfig, slurmSettings, type SlurmSettings } from "./slurm/settings.js"
import { DEFAULT_SHARD_BYTES, defaultBudget, formatBytes, MIN_SHARE, minimumBudget, MEMORY_ENV, parseBytes, SHARD_BYTES_ENV, slurmTaskMem } from "./resources/memory.js"

const ParamsByNode = Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
const PositiveInt = Schema.Int.pipe(Schema.positive())
/** A size: bytes, or a string such as "4GB", "512MB", "64MiB". */
const Size = Schema.Union(PositiveInt, Schema.String.pipe(Schema.filter((s) => parseBytes(s) !== undefined, { message: () => 'expected a size such as "4GB", "512MB" or a number of bytes' })))
/** An executor's name (engine/exec/executors.ts): local, slurm, or one an extension registers; checked when a run starts. */
export const ExecutorName = Schema.String.pipe(Schema.nonEmptyString())
export type ExecutorName = Schema.Schema.Type<typeof ExecutorName>

export const Profile = Schema.Struct({
  /** Nodes (and in-process shards) running at once. */
  concurrency: Schema.optional(PositiveInt),
  /** Worker threads for CPU-heavy map nodes. */
  workers: Schema.optional(PositiveInt),
  /** Retries of a shard after a transient failure. */
  retries: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  params: Schema.optional(ParamsByNode),
  /** Memory budget of a run (DuckDB's memory_limit, split across threads; Slurm --mem per task). */
  memory: Schema.optional(Size),
  /** Target input bytes per source shard: larger files are cut at record boundaries. */
  shardBytes: Schema.optional(Size),
  /** Where shards run: worker threads here (local) or array jobs on a Slurm cluster. */
  executor: Schema.optional(ExecutorName),
  slurm: Schema.optional(SlurmConfig),
})
export type Profile = Schema.Schema.Type<typeof Profile>

export const Config = Schema.Struct({
  store: Schema.optionalWith(Schema.String, { default: () => ".dag" }),
  runs: Schema.optionalWith(Schema.String, { default: () => "runs" }),
  concurrency: Schema.optionalWith(PositiveInt, { default: () => 8 }),
  workers: Schema.optionalWith(PositiveInt, { default: () => Math.max(1, os.availableParallelism()) }),
  retries: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 2 }),
  /** Memory budget of a run; default: 160 MiB per DuckDB share (a worker thread one, the main thread two), at most a quarter of the machine's memory. */
  memory: Schema.optional(Size),
  /** Target input bytes per source shard (default 16 MiB): larger files are cut at record boundaries. */
  shardBytes: Schema.optional(Size),
  defaultProfile: Schema.optionalWith(Schema.String, { default: () => "local" }),
  profiles: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Profile }), { default: () => ({ local: {} }) }),
  params: Schema.optionalWith(ParamsByNode, { default: () => ({}) }),
  /** Hugging Face Hub endpoint for `hf://` inputs (a mirror, or a test server) */
  hubUrl: Schema.optionalWith(Schema.String, { default: () => "https://huggingface.co" }),
  executor: Schema.optionalWith(ExecutorName, { default: () => "local" as const }),
  slurm: Schema.optional(SlurmConfig),
  /** CLI verbs and export formats contributed by node libraries (see engine/extension.ts) */
  extensions: Schema.optionalWith(
    Schema.Array(Schema.declare((u): u is Extension => typeof u === "object" && u !== null && typeof (u as { name?: unknown }).name === "string", { identifier: "Extension" })),
    { default: () => [] }
  ),
})
export type Config = Schema.Schema.Type<typeof Config>
export type ConfigInput = Schema.Schema.Encoded<typeof Config>

const decode = Schema.decodeUnknownEither(Config, { onExcessProperty: "error" })

export const parseConfig = (input: unknown): Either.Either<Config, ConfigError> =>
  Either.mapLeft(decode(input), (e) => {
    const first = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
    const where = first?.path.join(".") || "config"
    // one line: "is unexpected, expected one of …" lists every key; name the nearest instead
    if (first && /is unexpected/.test(first.message)) {
      const key = String(first.path.at(-1))
      const known = (first.message.match(/"([^"]+)"/g) ?? []).map((k) => k.slice(1, -1)).filter((k) => k !== key)
      return new ConfigError({ message: `dag.config.ts: unknown key "${where}"${didYouMean(key, known)}` })
    }
    return new ConfigError({ message: `dag.config.ts: ${where}: ${(first?.message ?? e.message).replaceAll("\n", " ")}` })
  })

/**
 * Marks the project's config (and types it). Checked when a command loads it, where a bad key or
 * value is one line naming it (exit 2), not an exception while the CLI starts.
 */
export const defineConfig = (input: ConfigInput): ConfigInput => input

export interface Settings {
  readonly root: string
  readonly store: string
  readonly runs: string
  readonly profile: string
  readonly concurrency: number
  readonly workers: number
  readonly retries: number
  /** Memory budget in bytes (see engine/resources/memory.ts for how it is split). */
  readonly memory: number
  /** Target input bytes per source shard. */
  readonly shardBytes: number
  readonly paramLayers: ReadonlyArray<Readonly<Record<string, Readonly<Record<string, unknown>>>>>
  readonly hubUrl: string
  readonly executor: ExecutorName
  readonly slurm: SlurmSettings
}

const decodeSlurm = Schema.decodeUnknownEither(SlurmConfig, { onExcessProperty: "error" })

/** DAG_SLURM_CONFIG names a JSON file of cluster settings, so one checkout can serve several clusters. */
const slurmOverlay = (): Either.Either<SlurmConfig | undefined, ConfigError> => {
  const file = process.env.DAG_SLURM_CONFIG
  if (!file) return Either.right(undefined)
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"))
  } catch (e) {
    return Either.left(new ConfigError({ message: `DAG_SLURM_CONFIG=${file}: ${(e as Error).message}` }))
  }
  return Either.mapLeft(decodeSlurm(json), (e) => {
    const first = ParseResult.ArrayFormatter.formatErrorSync(e)[0]
    return new ConfigError({ message: `DAG_SLURM_CONFIG=${file}: ${first?.path.join(".") || "config"}: ${first?.message ?? e.message}` })
  })
}

/** The effective settings of one invocation: config, then profile, then environment. */
export const settingsFor = (config: Config, root: string, profileName: string | undefined): Either.Either<Settings, ConfigError> => {
  const name = profileName ?? process.env.DAG_PROFILE ?? config.defaultProfile
  const profile = config.profiles[name]
  if (!profile && profileName) {
    return Either.left(new ConfigError({ message: `unknown profile "${name}"; dag.config.ts defines: ${Object.keys(config.profiles).join(", ")}` }))
  }
  const p = profile ?? {}
  const overlay = slurmOverlay()
  if (Either.isLeft(overlay)) return Either.left(overlay.left)
  const executor = process.env.DAG_EXECUTOR ?? p.executor ?? config.executor
  const workers = p.workers ?? config.workers
  const memorySpec = process.env[MEMORY_ENV] ?? p.memory ?? config.memory
  const memory = memorySpec === undefined ? defaultBudget(workers) : parseBytes(memorySpec)
  if (memory === undefined) return Either.left(new ConfigError({ message: `memory budget "${memorySpec}" is not a size: use e.g. 4GB, 512MB or a number of bytes` }))
  if (memory < minimumBudget(workers)) {
    return Either.left(
      new ConfigError({
        message: `memory budget ${formatBytes(memory)} is too small for ${workers} worker thread(s): give at least ${formatBytes(minimumBudget(workers))} (${formatBytes(MIN_SHARE)} per DuckDB instance), or fewer workers`,
      })
    )
  }
  const shardSpec = process.env[SHARD_BYTES_ENV] ?? p.shardBytes ?? config.shardBytes
  const shardBytes = shardSpec === undefined ? DEFAULT_SHARD_BYTES : parseBytes(shardSpec)
  if (shardBytes === undefined) return Either.left(new ConfigError({ message: `shardBytes "${shardSpec}" is not a size: use e.g. 64MB or a number of bytes` }))
  return Either.right({
    root,
    store: path.resolve(root, process.env.DAG_STORE ?? config.store),
    runs: path.resolve(root, process.env.DAG_RUNS ?? config.runs),
    profile: name,
    concurrency: p.concurrency ?? config.concurrency,
    workers,
    retries: p.retries ?? config.retries,
    memory,
    shardBytes,
    paramLayers: [config.params, p.params ?? {}],
    hubUrl: process.env.DAG_HUB_URL ?? config.hubUrl,
    executor,
    // a task's --mem follows from the budget unless the config sets one
    slurm: slurmSettings([{ mem: slurmTaskMem(memory, workers) }, config.slurm, p.slurm, overlay.right]),
  })
}
