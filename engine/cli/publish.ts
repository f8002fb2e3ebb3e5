/**
 * `dag publish [CONFIG|NODE…] --to hf://datasets/OWNER/NAME[@BRANCH]`: a run's datasets to the
 * Hugging Face Hub, in the Hub's dataset layout, with a dataset card written from the run.
 * `--dry-run --out DIR` writes what would be sent and touches no network.
 */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { InputError, StoreError } from "../errors.js"
import { HubError } from "../hub.js"
import { stagePublish } from "../publish/stage.js"
import { wiresOf, type PublishConfig } from "../publish/spec.js"
import { modelNodes, stageModel } from "../publish/model.js"
import { parseTarget, targetUrl, uploadFiles, type HubTarget, type LocalFile, type UploadResult } from "../publish/upload.js"
import { writeFileAtomic } from "../store/fsx.js"
import { DUCKDB_TEMP_ENV } from "../resources/memory.js"
import { withConnection } from "../store/duckdb.js"
import { suggest } from "../suggest.js"
import type { RunRecord } from "../journal.js"
import type { Pipeline } from "../pipeline.js"
import { allPipelineNames } from "../registry.js"
import { getPipeline, getRun, loadSettings, openStore, wantedPipeline } from "./context.js"
import { pipelineRunOption, profileOption, runOption } from "./options.js"
import { bytes } from "./format.js"

/** Configurations chosen by name, or by a node they read (`overlap/decontaminate` → open-web-math). */
const pickConfigs = (all: ReadonlyArray<PublishConfig>, names: ReadonlyArray<string>): ReadonlyArray<PublishConfig> | string => {
  if (names.length === 0) return all
  const picked: Array<PublishConfig> = []
  for (const name of names) {
    const hits = all.filter((c) => c.name === name || c.parts.some((p) => p.data.node === name))
    if (hits.length === 0) {
      const known = [...all.map((c) => c.name), ...all.flatMap((c) => c.parts.map((p) => p.data.node))]
      const hint = suggest(name, known)
      return `nothing to publish named "${name}"${hint ? `; did you mean "${hint}"?` : ""} Configurations: ${all.map((c) => c.name).join(", ")} (or a node they read: ${[...new Set(all.flatMap((c) => c.parts.map((p) => p.data.node)))].join(", ")})`
    }
    for (const h of hits) if (!picked.includes(h)) picked.push(h)
  }
  return picked
}

export const publishCommand = Command.make(
  "publish",
  {
    names: Args.text({ name: "config|node" }).pipe(Args.repeated, Args.withDescription("configurations to publish, or nodes they read, e.g. open-web-math arxiv; default: all the pipeline declares")),
    to: Options.text("to").pipe(
      Options.optional,
      Options.withDescription("where: hf://datasets/OWNER/NAME[@BRANCH] (a model: hf://OWNER/NAME), e.g. --to hf://datasets/me/proof-pile-2-sample; needed unless --dry-run")
    ),
    run: runOption(),
    pipeline: pipelineRunOption,
    private: Options.boolean("private").pipe(Options.withDescription("create the repository as private when it does not exist yet; default: public")),
    message: Options.text("message").pipe(Options.optional, Options.withDescription('commit title, e.g. --message "Add arXiv"; default: "Publish run RUN of PIPELINE"')),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("write what would be uploaded into --out and stop, with no network, e.g. --dry-run --out /tmp/card")),
    out: Options.directory("out", { exists: "either" }).pipe(
      Options.optional,
      Options.withDescription("folder for the staged files, e.g. --out /tmp/card; default: a folder in the store's tmp/, removed afterwards")
    ),
    maxFileMb: Options.float("max-file-mb").pipe(
      Options.withDefault(500),
      Options.withDescription("upper bound on each Parquet file's size in MB (a larger split is cut into several files), e.g. --max-file-mb 200; default: 500")
    ),
    commitMb: Options.float("commit-mb").pipe(
      Options.withDefault(2000),
      Options.withDescription("upper bound on one commit in MB (an interrupted publish keeps its whole commits), e.g. --commit-mb 500; default: 2000")
    ),
    dataset: Options.text("dataset").pipe(
      Options.optional,
      Options.withDescription("for a model: the dataset it was trained on, e.g. --dataset hf://datasets/me/proof-pile-2-sample; default: what this run published")
    ),
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const to = Option.getOrUndefined(o.to)
      const target = to === undefined ? undefined : parseTarget(to)
      if (to !== undefined && !target) {
        return yield* Effect.fail(new InputError({ message: `--to ${to}: expected hf://datasets/OWNER/NAME[@BRANCH] (a dataset) or hf://OWNER/NAME[@BRANCH] (a model)` }))
      }
      if (!target && !o.dryRun) return yield* Effect.fail(new InputError({ message: "say where to publish: --to hf://datasets/OWNER/NAME (or look first with --dry-run --out DIR)" }))
      if (o.dryRun && Option.isNone(o.out)) return yield* Effect.fail(new InputError({ message: "--dry-run writes what would be uploaded into a folder: add --out DIR" }))
      if (!(o.commitMb > 0)) return yield* Effect.fail(new InputError({ message: `--commit-mb ${o.commitMb}: must be a positive number of MB` }))
      if (!(o.maxFileMb > 0)) return yield* Effect.fail(new InputError({ message: `--max-file-mb ${o.maxFileMb}: must be a positive number of MB` }))

      // the default run is the latest successful one that holds what this publish reads
      const pipelines = new Map<string, Pipeline>()
      for (const name of allPipelineNames()) {
        const p = yield* getPipeline(name).pipe(Effect.option)
        if (Option.isSome(p)) pipelines.set(name, p.value)
      }
      const holds = (r: RunRecord) => {
        const p = pipelines.get(r.pipeline)
        if (!p) return false
        const has = (node: string) => r.nodes.some((n) => n.node === node && Object.keys(n.outputs).length > 0)
        if (isModel(p)) return has(o.names[0]!)
        const configs = p.publish ? pickConfigs(p.publish.configs, o.names) : "none"
        return typeof configs !== "string" && configs.every((c) => wiresOf(c).every((w) => has(w.node)))
      }
      // names no pipeline publishes: say so (with the nearest name) before looking for a run
      const isModel = (p: Pipeline) => o.names.length === 1 && modelNodes(p).includes(o.names[0]!)
      const declaring = [...pipelines.values()].filter((p) => p.publish)
      if (![...pipelines.values()].some((p) => isModel(p) || (p.publish && typeof pickConfigs(p.publish.configs, o.names) !== "string"))) {
        // the message of the pipeline that has a near name (else --pipeline's, else the first)
        const messages = declaring.map((d) => ({ name: d.name, text: pickConfigs(d.publish!.configs, o.names) as string }))
        const chosen = messages.find((m) => m.text.includes("did you mean")) ?? messages.find((m) => m.name === Option.getOrUndefined(o.pipeline)) ?? messages[0]
        const message = chosen
          ? messages.length > 1
            ? `${chosen.name}: ${chosen.text}`
            : chosen.text
          : "no pipeline of this project declares what it publishes: add `publish` to its Pipeline.make options (see docs/publish.md)"
        return yield* Effect.fail(new InputError({ message }))
      }
      const what = ["dag publish", ...o.names].join(" ")
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), { ...wantedPipeline(o.pipeline), accept: holds, acceptWhat: `holding what \`${what}\` reads` })
      if (run.status !== "ok") return yield* Effect.fail(new InputError({ message: `run ${run.run} ended "${run.status}"; publish a run that succeeded (omit --run for the latest one)` }))
      const pipeline = yield* getPipeline(run.pipeline)
      const store = openStore(settings)
      // without --out: a private folder in the store's tmp/, removed when the upload is done (and
      // swept with the store's other temporaries if this process dies first)
      const out = Option.getOrElse(o.out, () => store.tempPath(`publish-${run.run}`))
      if (Option.isNone(o.out)) process.once("exit", () => fs.rmSync(out, { recursive: true, force: true }))
      const upload = (t: HubTarget, files: ReadonlyArray<LocalFile>) =>
        Effect.tryPromise({
          try: () =>
            uploadFiles(t, files, {
              message: Option.getOrElse(o.message, () => `Publish run ${run.run} of ${pipeline.name}`),
              private: o.private,
              commitBytes: o.commitMb * 1e6,
              last: ["README.md", "mathdag.json"],
              log: (l) => console.error(l),
            }),
          catch: (e) => (e instanceof HubError ? new InputError({ message: e.message }) : new InputError({ message: `${targetUrl(t)}: ${(e as Error).message ?? String(e)}` })),
        })
      const report = (t: HubTarget, result: UploadResult) =>
        Console.log(
          result.commits.length === 0
            ? `${targetUrl(t)} is up to date (${result.unchanged.length} file(s) unchanged)`
            : `published ${result.sent.length} file(s) to ${targetUrl(t)} in ${result.commits.length} commit(s); ${result.unchanged.length} unchanged`
        )

      // one node with weights (train/torch): a model repository with a model card
      const [only] = o.names
      const isConfig = (n: string) => (pipeline.publish?.configs ?? []).some((c) => c.name === n || c.parts.some((p) => p.data.node === n))
      if (o.names.length === 1 && only && modelNodes(pipeline).includes(only) && !isConfig(only)) {
        if (target && target.type !== "model") return yield* Effect.fail(new InputError({ message: `${only} is a model: publish it to a model repository, --to hf://OWNER/NAME (no "datasets/")` }))
        const dataset = Option.getOrUndefined(o.dataset) ?? readPublished(settings.runs, run.run)
        const staged = yield* withConnection((c) =>
          stageModel(c, pipeline, run, store, only, out, { repo: target?.repo ?? "OWNER/NAME", ...(dataset ? { dataset } : {}), log: (l) => console.error(l) })
        ).pipe(Effect.mapError((e) => new InputError({ message: `${only}: ${(e as Error).message}` })))
        yield* Console.log(`staged ${staged.files.length} file(s), ${bytes(staged.files.reduce((a, f) => a + f.bytes, 0))}, from run ${run.run} in ${out}`)
        if (o.dryRun || !target) return yield* Console.log(`dry run: nothing sent. Look at ${path.join(out, "README.md")}; publish with --to hf://OWNER/NAME`)
        return yield* report(target, yield* upload(target, staged.files))
      }
      if (target && target.type !== "dataset")
        return yield* Effect.fail(new InputError({ message: `--to ${to}: datasets go to hf://datasets/OWNER/NAME (a model repository takes one node with weights, e.g. train/torch)` }))
      if (!pipeline.publish)
        return yield* Effect.fail(new InputError({ message: `pipeline ${pipeline.name} declares nothing to publish: add \`publish\` to its Pipeline.make options (see docs/publish.md)` }))
      const configs = pickConfigs(pipeline.publish.configs, o.names)
      if (typeof configs === "string") return yield* Effect.fail(new InputError({ message: configs }))

      // every shard read is verified first: a corrupt store never reaches the Hub
      const objects = configs.flatMap((c) =>
        wiresOf(c).flatMap((w) => {
          const log = run.nodes.find((n) => n.node === w.node)
          const m = log?.outputs[w.output] ? store.outputManifest(log.outputs[w.output]!, log.key, w.output) : undefined
          return m?.kind === "dataset" ? m.shards.map((s) => ({ hash: s.hash, ext: ".parquet" })) : []
        })
      )
      yield* store.verifyObjects(objects)

      // large splits are sorted by DuckDB, which spills what does not fit in memory here
      process.env[DUCKDB_TEMP_ENV] ??= path.join(settings.store, "tmp")
      const repo = target?.repo ?? "OWNER/NAME"
      const staged = yield* withConnection((c) => stagePublish(c, pipeline, run, store, configs, out, { repo, maxFileBytes: o.maxFileMb * 1e6, log: (l) => console.error(l) })).pipe(
        Effect.mapError((e) => new StoreError({ path: out, message: `staging the publish failed: ${(e as Error).message}`, transient: false }))
      )
      const total = staged.files.reduce((a, f) => a + f.bytes, 0)
      yield* Console.log(`staged ${staged.files.length} file(s), ${bytes(total)}, from run ${run.run} in ${out}`)
      if (o.dryRun || !target) {
        yield* Console.log(`dry run: nothing sent. Look at ${path.join(out, "README.md")}; publish with --to hf://datasets/OWNER/NAME`)
        return
      }
      const result = yield* upload(target, staged.files)
      // a model published from this run later names this dataset as its training data
      recordPublished(settings.runs, run.run, targetUrl(target))
      yield* report(target, result)
    })
).pipe(
  Command.withDescription("Publish a run's datasets to the Hugging Face Hub (one configuration per subset, zstd Parquet, a dataset card from the run), or a trained model (one node with weights).")
)

const publishedFile = (runs: string, run: string) => path.join(runs, run, "published.json")
const recordPublished = (runs: string, run: string, dataset: string) => writeFileAtomic(path.join(runs, run), publishedFile(runs, run), JSON.stringify({ dataset }))
const readPublished = (runs: string, run: string): string | undefined => {
  try {
    return (JSON.parse(fs.readFileSync(publishedFile(runs, run), "utf8")) as { dataset?: string }).dataset
  } catch {
    return undefined
  }
}
