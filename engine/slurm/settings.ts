/**
 * Slurm settings: cluster-wide defaults plus per-node resources, chosen by node name or glob
 * (`train/*`). Pure: resolving a node's resources is a fold over the matching entries.
 */
import { Schema } from "effect"

const PositiveInt = Schema.Int.pipe(Schema.positive())

export const SlurmResources = Schema.Struct({
  partition: Schema.optional(Schema.String),
  account: Schema.optional(Schema.String),
  qos: Schema.optional(Schema.String),
  /** --cpus-per-task */
  cpus: Schema.optional(PositiveInt),
  /** --mem, in Slurm's syntax: 500M, 4G */
  mem: Schema.optional(Schema.String),
  /** --time, in Slurm's syntax: 30, 1:00:00, 2-00:00:00 */
  time: Schema.optional(Schema.String),
  /** more sbatch flags, passed as they are: ["--gres=gpu:1", "--constraint=ib"] */
  extra: Schema.optional(Schema.Array(Schema.String)),
  /** shell lines run before the task (module load, conda activate, …) */
  setup: Schema.optional(Schema.Array(Schema.String)),
})
export type SlurmResources = Schema.Schema.Type<typeof SlurmResources>

export const SlurmConfig = Schema.Struct({
  ...SlurmResources.fields,
  /** Shards per array task: more amortises job start-up, fewer spreads work wider. */
  shardsPerTask: Schema.optional(PositiveInt),
  /** A lower cap than the cluster's MaxArraySize (array tasks per job). */
  maxArraySize: Schema.optional(PositiveInt),
  /** Resubmissions of a failed array task before its shards are reported as failed. */
  retries: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Polling of squeue: first interval and ceiling, in milliseconds (backoff doubles in between). */
  pollMs: Schema.optional(PositiveInt),
  pollMaxMs: Schema.optional(PositiveInt),
  /** Per-node resources, keyed by node name or a glob such as `owm/*`; later keys win. */
  nodes: Schema.optional(Schema.Record({ key: Schema.String, value: SlurmResources })),
})
export type SlurmConfig = Schema.Schema.Type<typeof SlurmConfig>

export interface SlurmSettings {
  readonly defaults: SlurmResources
  readonly nodes: Readonly<Record<string, SlurmResources>>
  readonly shardsPerTask: number
  readonly maxArraySize: number | undefined
  readonly retries: number
  readonly pollMs: number
  readonly pollMaxMs: number
}

const RESOURCE_KEYS = Object.keys(SlurmResources.fields) as ReadonlyArray<keyof SlurmResources>

/** Later layers win key by key; `nodes` entries merge per pattern. */
export const slurmSettings = (layers: ReadonlyArray<SlurmConfig | undefined>): SlurmSettings => {
  const merged: Record<string, unknown> = {}
  const nodes: Record<string, SlurmResources> = {}
  for (const layer of layers) {
    if (!layer) continue
    for (const [k, v] of Object.entries(layer)) if (k !== "nodes" && v !== undefined) merged[k] = v
    for (const [pattern, r] of Object.entries(layer.nodes ?? {})) nodes[pattern] = { ...nodes[pattern], ...r }
  }
  const defaults = Object.fromEntries(RESOURCE_KEYS.filter((k) => merged[k] !== undefined).map((k) => [k, merged[k]])) as SlurmResources
  return {
    defaults,
    nodes,
    shardsPerTask: (merged.shardsPerTask as number | undefined) ?? 4,
    maxArraySize: merged.maxArraySize as number | undefined,
    retries: (merged.retries as number | undefined) ?? 2,
    pollMs: (merged.pollMs as number | undefined) ?? 250,
    pollMaxMs: (merged.pollMaxMs as number | undefined) ?? 10_000,
  }
}

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`
  )

/** A node's resources: the defaults, then every matching pattern in order (so `owm/extract` can refine `owm/*`). */
export const resourcesFor = (settings: SlurmSettings, node: string): SlurmResources => {
  let r: SlurmResources = settings.defaults
  for (const [pattern, over] of Object.entries(settings.nodes)) if (globToRegExp(pattern).test(node)) r = { ...r, ...over }
  return r
}

/** sbatch flags for a node's resources (the job name and array spec are added by the caller). */
export const resourceFlags = (r: SlurmResources): ReadonlyArray<string> => [
  ...(r.partition ? [`--partition=${r.partition}`] : []),
  ...(r.account ? [`--account=${r.account}`] : []),
  ...(r.qos ? [`--qos=${r.qos}`] : []),
  ...(r.cpus ? [`--cpus-per-task=${r.cpus}`] : []),
  ...(r.mem ? [`--mem=${r.mem}`] : []),
  ...(r.time ? [`--time=${r.time}`] : []),
  ...(r.extra ?? []),
]
