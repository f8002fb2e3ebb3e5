/**
 * What every command needs: the config, the effective settings, a pipeline with resolved params,
 * and the store. Loading is cheap (no DuckDB) so that planning-only commands start fast.
 */
import { Effect, Either, Option } from "effect"
import * as path from "node:path"
import { config, root } from "mathdag:project"
import { parseConfig, settingsFor, type Settings } from "../config.js"
import { ConfigError, NotFoundError, type ParamError, type PipelineError } from "../errors.js"
import { latestRun, type RunRecord } from "../journal.js"
import { resolveRun, type RunWanted } from "../runs.js"
import { parseOverride, resolveParams, type ResolvedParams } from "../params.js"
import { projectRoot } from "../paths.js"
import type { Pipeline } from "../pipeline.js"
import { loadPipeline } from "../registry.js"
import { useFingerprintCache } from "../fingerprints.js"
import { Store } from "../store/store.js"
import { applyBudget, SHARD_BYTES_ENV } from "../resources/memory.js"

export const loadSettings = (profile: string | undefined): Effect.Effect<Settings, ConfigError> =>
  Effect.gen(function* () {
    if (root === undefined) {
      return yield* Effect.fail(new ConfigError({ message: `no dag.config.ts in ${process.cwd()} or any folder above it: run dag inside a project, or create one with \`dag init\`` }))
    }
    const cfg = yield* Either.match(parseConfig(config), { onLeft: Effect.fail, onRight: Effect.succeed })
    const settings = yield* Either.match(settingsFor(cfg, projectRoot(), profile), { onLeft: Effect.fail, onRight: Effect.succeed })
    // Nodes (and their worker threads) read these: the Hub endpoint and where Hub downloads are cached.
    process.env.DAG_HUB_URL = settings.hubUrl
    process.env.DAG_HUB_CACHE ??= `${settings.store}/hub`
    // DuckDB instances (here, in worker threads, in Slurm tasks) take their share of the budget from here.
    applyBudget(settings.memory, settings.workers, path.join(settings.store, "tmp"))
    process.env[SHARD_BYTES_ENV] = String(settings.shardBytes)
    return settings
  })

export const getPipeline = (name: string): Effect.Effect<Pipeline, NotFoundError | PipelineError> =>
  Effect.tryPromise({ try: () => loadPipeline(name), catch: (e) => e as NotFoundError | PipelineError })

export const getParams = (pipeline: Pipeline, settings: Settings, flags: ReadonlyArray<string>): Effect.Effect<ResolvedParams, ParamError> =>
  Effect.gen(function* () {
    const names = pipeline.nodes.map((pn) => pn.node.name)
    const overrides = []
    for (const f of flags) overrides.push(yield* Either.match(parseOverride(f, names), { onLeft: Effect.fail, onRight: Effect.succeed }))
    return yield* Either.match(resolveParams(pipeline, settings.paramLayers, overrides), { onLeft: Effect.fail, onRight: Effect.succeed })
  })

export const openStore = (settings: Settings): Store => {
  const s = new Store(settings.store)
  s.init()
  useFingerprintCache(settings.store)
  return s
}

/** A run by id, or the latest real (not dry) run. */
/** The run a command reads: `--run` (id, prefix, latest, latest~N), else the latest that fits `wanted` (see engine/runs.ts). */
export const getRun = (settings: Settings, id: string | undefined, wanted: RunWanted = {}): Effect.Effect<RunRecord, NotFoundError> => {
  const r = resolveRun(settings.runs, id, wanted)
  return "error" in r ? Effect.fail(new NotFoundError({ what: "run", name: id ?? "latest", message: r.error })) : Effect.succeed(r)
}

/** `--pipeline` as a run filter. */
export const wantedPipeline = (p: Option.Option<string>): RunWanted => (Option.isSome(p) ? { pipeline: p.value } : {})

/** The pipeline a command talks about: --pipeline, else the latest run's, else "demo". */
export const pipelineFor = (settings: Settings, explicit: string | undefined): string => explicit ?? latestRun(settings.runs, { real: true })?.pipeline ?? "demo"
