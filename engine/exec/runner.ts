/**
 * The run loop. Each node becomes a fiber that waits for its inputs, takes a permit, and then
 * either proves it is cached (one key lookup) or computes what is missing, shard by shard.
 * Keys come from plan.ts (pure); the store, journal, progress and shard executor are services.
 */
import { Cause, Deferred, Effect, Exit, Option, Schedule } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import { createRequire } from "node:module"
import * as path from "node:path"
import { columnsOf } from "../columns.js"
import { CorruptShardError, NodeRunError, withDiskAdvice, type DagError } from "../errors.js"
import { onOwnThread, type AnyNode, type GlobalNode, type MapNode, type SourceNode, type SourceUnit, type StepProgress } from "../node.js"
import type { ResolvedParams } from "../params.js"
import type { Pipeline, PipelineNode } from "../pipeline.js"
import { ancestorsOf, topoOrder } from "../pipeline.js"
import { staleCauses, keyOf, nodeKeyStruct, shardKeyStruct, type Cause as StaleCause, type KeyStruct } from "../plan.js"
import { packageRoot } from "../paths.js"
import {
  ArtifactStore,
  STORE_FORMAT,
  datasetManifest,
  storeTryPromise,
  type DatasetManifest,
  type Manifest,
  type NodeRecord,
  type ShardEntry,
  type ShardLineage,
  type ShardRecord,
  type Store,
} from "../store/store.js"
import { readJsonOr } from "../store/fsx.js"
import { saveFingerprints } from "../fingerprints.js"
import { externalFacts } from "../externals.js"
import { RunJournal, type NodeLog, type ShardLog } from "../journal.js"
import { inScratch, runGlobal, type GlobalRunResult, type ResolvedInput } from "./run-global.js"
import { instance } from "../store/duckdb.js"
import { ShardExecutor, inlineExecutor, type Executor } from "./pool.js"
import { RemoteShards, type RemoteExecutor, type RemoteShard } from "./remote.js"
import { ProgressBar, type Progress } from "./progress.js"
import { SAMPLES_PER_REASON, type ShardResult } from "./shard.js"

export interface RunRequest {
  readonly pipeline: Pipeline
  readonly params: ResolvedParams
  readonly select: ReadonlyArray<string>
  readonly force: ReadonlyArray<string>
  readonly dryRun: boolean
  /** Hash every cached shard instead of checking presence and size only. */
  readonly verify: boolean
  readonly concurrency: number
  readonly retries: number
}

export type Outputs = Readonly<Record<string, ResolvedInput>>

interface NodeOutcome {
  readonly status: NodeLog["status"]
  readonly outputs: Outputs
  /** the committed (or reused) record, for the pipeline index */
  readonly record: NodeRecord
}

/** Runtime facts that change outputs: the store format and the Parquet writer's version. */
export const runtimeFacts = (): Readonly<Record<string, string>> => {
  // found as Node finds the package (an installed mathdag's dependencies are usually hoisted above it)
  let duck: { version?: string } = {}
  try {
    duck = readJsonOr(createRequire(path.join(packageRoot(), "package.json")).resolve("@duckdb/node-api/package.json"), {})
  } catch {
    /* not installed: "unknown" */
  }
  return { store: STORE_FORMAT, duckdb: duck.version ?? "unknown" }
}

const host = os.hostname()
/** Log lines of a node kept in its journal record (all of them are in events.jsonl). */
const MESSAGES_KEPT = 40
const inline = inlineExecutor(1)

class UpstreamFailed {
  readonly _tag = "UpstreamFailed"
  constructor(readonly node: string) {}
}

interface Env {
  readonly store: Store
  readonly journal: RunJournal["Type"]
  readonly progress: Progress
  readonly executor: Executor
  /** set when shards and global nodes run on a cluster instead of here */
  readonly remote: RemoteExecutor | undefined
  readonly req: RunRequest
  readonly runtime: Readonly<Record<string, string>>
  readonly nodeRuntime: Map<string, Readonly<Record<string, string>>>
  readonly runId: string
}

/** The manifest of a source or map node's single output. */
const outputManifest = (node: SourceNode | MapNode, shards: ReadonlyArray<ShardEntry>): DatasetManifest => datasetManifest(columnsOf(node.output.schema), shards)

const addDrops = (into: Record<string, number>, from: Readonly<Record<string, number>>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
}

const addSamples = (into: Record<string, Array<unknown>>, from: Readonly<Record<string, ReadonlyArray<unknown>>> | undefined) => {
  for (const [k, rows] of Object.entries(from ?? {})) {
    const kept = (into[k] ??= [])
    for (const r of rows) if (kept.length < SAMPLES_PER_REASON) kept.push(r)
  }
}

/** Runtime facts of one node: the run's, plus the fingerprints of the files it declares (cached per run). */
const runtimeOf = (env: Env, node: AnyNode): Readonly<Record<string, string>> => {
  let r = env.nodeRuntime.get(node.name)
  if (!r) {
    r = { ...env.runtime, ...externalFacts(node, env.req.params.values.get(node.name)) }
    env.nodeRuntime.set(node.name, r)
  }
  return r
}

/** The key struct of a node as a whole, from its inputs' artifact ids (or source fingerprints). */
const nodeStruct = (env: Env, node: AnyNode, inputs: Outputs, units?: ReadonlyArray<SourceUnit>): KeyStruct => {
  const params = env.req.params.encoded.get(node.name)
  const from = node.kind === "source" ? { units: units ?? [] } : { inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.id])) }
  return nodeKeyStruct(node, params, from, runtimeOf(env, node))
}

const resolveRecord = (env: Env, record: NodeRecord | undefined): Outputs | undefined => {
  if (!record) return undefined
  const out: Record<string, ResolvedInput> = {}
  for (const [name, id] of Object.entries(record.outputs)) {
    const manifest = record.manifests?.[name] ?? env.store.getArtifact(id)
    if (!manifest || !env.store.artifactPresent(id, manifest)) return undefined
    out[name] = { id, manifest }
  }
  return out
}

const verifyAll = (env: Env, outputs: Outputs): Effect.Effect<boolean> =>
  Effect.gen(function* () {
    for (const { manifest } of Object.values(outputs)) {
      const objects = manifest.kind === "file" ? [{ hash: manifest.hash, ext: `.${manifest.extension}` }] : manifest.shards.map((s) => ({ hash: s.hash, ext: ".parquet" }))
      for (const o of objects) {
        const ok = yield* env.store.verifyObject(o.hash, o.ext).pipe(
          Effect.as(true),
          Effect.catchAll((e) =>
            Effect.sync(() => {
              env.journal.event("corrupt-shard", { hash: o.hash, message: e.message })
              return false
            })
          )
        )
        if (!ok) return false
      }
    }
    return true
  })

/** Retries transient failures (a dead worker, EAGAIN) on an exponential schedule, counting attempts. */
const retrying = <A, E extends { readonly _tag: string }>(env: Env, attempts: { n: number }, effect: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    attempts.n++
    return effect
  }).pipe(
    Effect.retry({
      schedule: Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(env.req.retries))),
      while: (e) => (e as { transient?: boolean }).transient === true,
    })
  )

/** A shard whose key missed: computed here, or handed to a cluster. */
interface ShardMiss<T> {
  readonly item: T
  readonly index: number
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: ReadonlyArray<string>
}

/** How a missed shard ended: committed (its key record written), or failed with the reason. */
type ShardOutcome =
  | { readonly ok: true; readonly index: number; readonly record: ShardRecord; readonly attempts: number; readonly thread?: number }
  | { readonly ok: false; readonly index: number; readonly error: string; readonly attempts: number; readonly log?: string; readonly host?: string; readonly corrupt?: CorruptShardError }

/**
 * The misses computed on this machine (worker threads or inline), each committed through the
 * store's one shard commit path. Every shard runs to its end even when a sibling fails: committed
 * shards are reused next time.
 */
const computeHere = <T>(
  env: Env,
  node: SourceNode | MapNode,
  misses: ReadonlyArray<ShardMiss<T>>,
  compute: (item: T, tmpPath: string) => Effect.Effect<ShardResult, NodeRunError | CorruptShardError>,
  slots: number,
  onCommitted: (outcome: Extract<ShardOutcome, { ok: true }>) => void
): Effect.Effect<ReadonlyArray<ShardOutcome>> =>
  Effect.forEach(
    misses,
    (m) => {
      const attempts = { n: 0 }
      const tmpPath = env.store.tempPath(`${node.name.replaceAll("/", "_")}-${m.index}.parquet`)
      const removeTmp = Effect.sync(() => fs.rmSync(tmpPath, { force: true }))
      return Effect.gen(function* () {
        const started = Date.now()
        const result = yield* retrying(env, attempts, compute(m.item, tmpPath))
        const record = yield* storeTryPromise(tmpPath, () => env.store.commitShard(tmpPath, result, { key: m.key, struct: m.struct, inputs: m.inputs, run: env.runId, host, started }))
        const outcome = { ok: true as const, index: m.index, record, attempts: attempts.n, thread: result.thread }
        onCommitted(outcome)
        return outcome as ShardOutcome
      }).pipe(
        Effect.onInterrupt(() => removeTmp),
        Effect.catchAll((e) =>
          removeTmp.pipe(Effect.as({ ok: false as const, index: m.index, error: e.message, attempts: attempts.n, host, ...(e._tag === "CorruptShardError" ? { corrupt: e } : {}) } as ShardOutcome))
        )
      )
    },
    { concurrency: Math.max(1, slots) }
  )

/**
 * Runs (or reuses) the shards of a source or map node; returns its output manifest. One path for
 * every executor: keys are looked up here, the misses are computed on this machine or handed to a
 * cluster, and each committed shard record (wherever it was made) is taken in by `take`.
 */
const runShards = <T>(
  env: Env,
  node: SourceNode | MapNode,
  items: ReadonlyArray<T>,
  describe: (item: T) => { struct: KeyStruct; inputs: ReadonlyArray<string> },
  compute: (item: T, tmpPath: string) => Effect.Effect<ShardResult, NodeRunError | CorruptShardError>,
  forced: boolean,
  slots: number,
  remoteItem: (item: T) => Pick<RemoteShard, "input" | "unit">
) =>
  Effect.gen(function* () {
    const entries: Array<ShardLineage> = new Array(items.length)
    const shards: Array<ShardEntry> = new Array(items.length)
    const dropped: Record<string, number> = {}
    const droppedSamples: Record<string, Array<unknown>> = {}
    let rowsIn = 0
    env.progress.start(node.name, items.length)
    env.journal.shardsPlanned(node.name, items.length)
    /** Takes a committed shard record (a cache hit, or a shard just committed) into the node's output. */
    const take = (index: number, inputs: ReadonlyArray<string>, rec: ShardRecord, status: "cached" | "computed", attempts: number, thread?: number) => {
      entries[index] = { index, key: rec.key, hash: rec.shard.hash, rows: rec.shard.rows, inputs }
      shards[index] = rec.shard
      rowsIn += rec.rowsIn
      addDrops(dropped, rec.dropped)
      addSamples(droppedSamples, rec.droppedSamples)
      const entry: ShardLog = {
        index,
        key: rec.key,
        status,
        ms: status === "cached" ? 0 : rec.ms,
        rowsIn: rec.rowsIn,
        rowsOut: rec.shard.rows,
        hash: rec.shard.hash,
        inputs,
        attempts,
        host: rec.host,
        ...(rec.job ? { job: rec.job } : {}),
        ...(thread !== undefined ? { thread } : {}),
      }
      env.journal.shard(node.name, entry)
      env.progress.advance(node.name, rec.shard.rows)
    }

    const misses: Array<ShardMiss<T>> = []
    items.forEach((item, index) => {
      const { struct, inputs } = describe(item)
      const key = keyOf(struct)
      const hit = forced ? undefined : env.store.committedShard(key)
      if (hit) return take(index, inputs, hit, "cached", 0)
      // --force: forget the key first, so a cluster task recomputes instead of finding it committed
      if (forced) env.store.forgetShardRecord(key)
      misses.push({ item, index, key, struct, inputs })
    })
    if (misses.length > 0) {
      const started = Date.now()
      const missByIndex = new Map(misses.map((m) => [m.index, m]))
      const committed = (c: Extract<ShardOutcome, { ok: true }>) => take(c.index, missByIndex.get(c.index)!.inputs, c.record, "computed", c.attempts, c.thread)
      const outcomes: ReadonlyArray<ShardOutcome> = env.remote
        ? yield* env.remote.runShards({
            run: env.runId,
            pipeline: env.req.pipeline.name,
            node,
            shards: misses.map((m) => ({ index: m.index, key: m.key, struct: m.struct, inputs: m.inputs, ...remoteItem(m.item) })),
            onCommitted: committed,
            onTasks: (counts) => env.progress.tasks?.(node.name, counts),
          })
        : yield* computeHere(env, node, misses, compute, slots, committed)
      const failed = outcomes.filter((o): o is Extract<ShardOutcome, { ok: false }> => !o.ok)
      for (const f of failed) {
        const m = missByIndex.get(f.index)!
        env.journal.shard(node.name, {
          index: f.index,
          key: m.key,
          status: "failed",
          ms: Date.now() - started,
          rowsIn: 0,
          rowsOut: 0,
          inputs: m.inputs,
          attempts: f.attempts,
          host: f.host ?? "",
          error: f.error,
          ...(f.log ? { log: f.log } : {}),
        })
      }
      if (failed.length > 0) {
        const first = failed[0]!
        // a corrupt input shard is repaired by recomputing its producer (runWithRepair)
        const corrupt = failed.find((f) => f.corrupt)?.corrupt
        if (corrupt) return yield* Effect.fail(corrupt)
        return yield* Effect.fail(
          new NodeRunError({ node: node.name, message: failed.length > 1 ? `${failed.length} of ${items.length} shards failed; first: ${first.error}` : first.error, transient: false })
        )
      }
    }
    env.journal.shardsDone(node.name)
    return { manifest: outputManifest(node, shards), lineage: entries, rowsIn, dropped, droppedSamples }
  })

const markCached = (env: Env, node: AnyNode, rec: NodeRecord, started: number) =>
  env.journal.nodeCached(node.name, {
    key: rec.key,
    outputs: rec.outputs as Record<string, string>,
    shards: node.kind === "global" ? 1 : rec.shards.length,
    rows: { in: rec.rowsIn, out: rec.rowsOut },
    dropped: rec.dropped as Record<string, number>,
    droppedSamples: (rec.droppedSamples ?? {}) as Record<string, ReadonlyArray<unknown>>,
    ms: Date.now() - started,
  })

const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  if (ka.length !== kb.length) return false
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

const sameStruct = (a: KeyStruct, b: KeyStruct): boolean => sameValue(a, b)

/**
 * The no-op fast path: walks the pipeline in order and settles, in one pass, every node whose key
 * hits and whose inputs were settled the same way. A fully cached run never starts a fiber per
 * node; only what is stale goes through the scheduler. (Listing a source's units may be
 * asynchronous: it is awaited here, so sources and what follows them settle too.)
 */
const settleCached = (env: Env, order: ReadonlyArray<PipelineNode>, index: Readonly<Record<string, NodeRecord>>): Effect.Effect<Map<string, NodeOutcome>> =>
  Effect.gen(function* () {
    const settled = new Map<string, NodeOutcome>()
    if (env.req.verify) return settled
    for (const pn of order) {
      const node = pn.node
      if (env.req.force.includes(node.name)) continue
      const inputs: Record<string, ResolvedInput> = {}
      let ready = true
      for (const [name, w] of Object.entries(pn.inputs)) {
        const out = settled.get(w.node)?.outputs[w.output]
        if (!out) {
          ready = false
          break
        }
        inputs[name] = out
      }
      if (!ready) continue
      let units: ReadonlyArray<SourceUnit> | undefined
      if (node.kind === "source") {
        // listing units may be asynchronous (globs, cut points read from the files)
        const exit = yield* Effect.exit(node.units(env.req.params.values.get(node.name)))
        if (Exit.isFailure(exit)) continue
        units = exit.value
      }
      const started = Date.now()
      const struct = nodeStruct(env, node, inputs, units)
      const indexed = index[node.name]
      // Equal structs have equal keys: comparing them is cheaper than hashing.
      const record = indexed && sameStruct(indexed.struct, struct) ? indexed : env.store.getNodeRecord(keyOf(struct))
      const outputs = resolveRecord(env, record)
      if (!record || !outputs) continue
      markCached(env, node, record, started)
      settled.set(node.name, { status: "cached", outputs, record })
    }
    return settled
  })

/** A DATA cause names the upstream change behind it, when that upstream recomputed in this run. */
const attributeUpstream = (env: Env, pn: PipelineNode, cause: StaleCause): StaleCause => {
  if (cause.category !== "DATA") return cause
  const input = /^input (\S+) changed/.exec(cause.detail)?.[1]
  const wire = input ? pn.inputs[input] : undefined
  if (!wire) return cause
  const up = env.journal.node(wire.node)
  const root = up.causes.find((c) => c.category !== "NEW")
  if (!root || (up.status !== "computed" && up.status !== "partial")) return cause
  const via = root.detail.includes("(upstream ") ? root.detail : `${root.detail} (upstream ${wire.node})`
  return { category: cause.category, detail: `${cause.detail} — ${root.category}: ${via}` }
}

const executeNode = (env: Env, pn: PipelineNode, inputs: Outputs): Effect.Effect<NodeOutcome, DagError> =>
  Effect.gen(function* () {
    const node = pn.node
    const started = Date.now()
    env.journal.nodeStarted(node.name)
    const params = env.req.params.values.get(node.name)
    const forced = env.req.force.includes(node.name)

    const units = node.kind === "source" ? yield* node.units(params) : undefined
    const struct = nodeStruct(env, node, inputs, units)
    const key = keyOf(struct)
    env.journal.nodeKeyed(node.name, key)

    if (!forced) {
      const record = env.store.getNodeRecord(key)
      const cached = resolveRecord(env, record)
      if (record && cached && (!env.req.verify || (yield* verifyAll(env, cached)))) {
        markCached(env, node, record, started)
        env.journal.event("node", { node: node.name, status: "cached", key })
        return { status: "cached", outputs: cached, record } satisfies NodeOutcome
      }
    }

    const previous = env.store.getRef(node.name)
    const causes = staleCauses(previous?.struct, struct, forced)
    env.journal.nodeKeyed(
      node.name,
      key,
      causes.map((c) => attributeUpstream(env, pn, c))
    )
    env.journal.event("node-start", { node: node.name, key, causes })

    let outputs: Record<string, Manifest>
    let lineage: ReadonlyArray<ShardLineage> = []
    let rowsIn = 0
    let dropped: Record<string, number> = {}
    let droppedSamples: Record<string, Array<unknown>> = {}
    if (node.kind === "global") {
      const inputRows = Object.values(inputs).reduce((a, i) => a + (i.manifest.kind === "dataset" ? i.manifest.rows : 0), 0)
      env.progress.start(node.name, 1)
      env.journal.shardsPlanned(node.name, 1)
      const attempts = { n: 0 }
      const say = (m: string) => env.journal.nodeMessage(node.name, m, MESSAGES_KEPT)
      let r: GlobalRunResult
      if (env.remote) {
        const remote = yield* env.remote.runGlobal({ run: env.runId, pipeline: env.req.pipeline.name, node, key, struct, inputs, log: say })
        // which host and job ran the node
        env.journal.shard(node.name, {
          index: 0,
          key,
          status: "computed",
          ms: Date.now() - started,
          rowsIn: inputRows,
          rowsOut: remote.rowsOut,
          inputs: [],
          attempts: 1,
          host: remote.host,
          job: remote.job,
        })
        r = remote
      } else {
        const progress = (p: StepProgress) => env.progress.step?.(node.name, p)
        const onThread = onOwnThread(node as GlobalNode, params) ? env.executor.runGlobal : undefined
        r = yield* inScratch(env.store, key, say, (work) =>
          retrying(
            env,
            attempts,
            onThread
              ? onThread({ kind: "global", pipeline: env.req.pipeline.name, node: node.name, params, inputs, storeDir: env.store.dir, scratch: work.scratch, key: work.key }, { log: say, progress })
              : runGlobal(node as GlobalNode, params, inputs, env.store, say, { ...work, progress })
          )
        )
      }
      outputs = r.outputs
      dropped = r.dropped
      droppedSamples = r.droppedSamples
      rowsIn = inputRows
      env.journal.globalComputed(node.name)
      env.progress.advance(node.name, r.rowsOut)
    } else if (node.kind === "source") {
      const r = yield* runShards(
        env,
        node,
        units ?? [],
        (u) => ({ struct: shardKeyStruct(node, env.req.params.encoded.get(node.name), { unit: u }, runtimeOf(env, node)), inputs: [u.id] }),
        (u, tmp) => (node.worker ? env.executor : inline).runSourceShard({ pipeline: env.req.pipeline.name, node, params, unit: u, tmpPath: tmp }),
        forced,
        node.worker ? env.executor.slots : env.req.concurrency,
        (u) => ({ unit: u })
      )
      outputs = { out: r.manifest }
      lineage = r.lineage
      rowsIn = r.rowsIn
      dropped = r.dropped
      droppedSamples = r.droppedSamples
    } else {
      const input = inputs.in!.manifest as DatasetManifest
      const mapNode = node as MapNode
      const r = yield* runShards(
        env,
        mapNode,
        input.shards,
        (s) => ({ struct: shardKeyStruct(node, env.req.params.encoded.get(node.name), { inputShard: s.hash }, runtimeOf(env, node)), inputs: [s.hash] }),
        (s, tmp) =>
          Effect.gen(function* () {
            const inputPath = yield* env.store.verifyObject(s.hash, ".parquet")
            // Only CPU-heavy nodes pay for a thread hop; the rest run on the main thread.
            const executor = mapNode.worker ? env.executor : inline
            return yield* executor.runMapShard({ pipeline: env.req.pipeline.name, node: mapNode, params, inputPath, tmpPath: tmp })
          }),
        forced,
        mapNode.worker ? env.executor.slots : env.req.concurrency,
        (sh) => ({ input: sh.hash })
      )
      outputs = { out: r.manifest }
      lineage = r.lineage
      rowsIn = r.rowsIn
      dropped = r.dropped
      droppedSamples = r.droppedSamples
    }

    const resolved: Record<string, ResolvedInput> = {}
    for (const [name, manifest] of Object.entries(outputs)) {
      const id = yield* storeTryPromise("artifacts/", () => env.store.putArtifact(manifest))
      resolved[name] = { id, manifest }
    }
    const rowsOut = Object.values(outputs).reduce((a, m) => a + (m.kind === "dataset" ? m.rows : 0), 0)
    const ms = Date.now() - started
    const record: NodeRecord = {
      key,
      struct,
      node: node.name,
      outputs: Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, v.id])),
      manifests: outputs,
      shards: lineage,
      rowsIn,
      rowsOut,
      dropped,
      droppedSamples,
      run: env.runId,
      ms,
      at: new Date().toISOString(),
    }
    yield* storeTryPromise("keys/", () => env.store.putNodeRecord(record))
    const rows = { in: rowsIn, out: rowsOut }
    const status = env.journal.nodeFinished(node.name, { outputs: record.outputs as Record<string, string>, rows, dropped, droppedSamples, ms })
    if (status === "computed") env.progress.timed?.(node.name, ms)
    env.journal.event("node", { node: node.name, status, key, ms, rows, dropped })
    return { status, outputs: resolved, record } satisfies NodeOutcome
  }).pipe(
    Effect.ensuring(
      Effect.sync(() => {
        env.progress.end(pn.node.name)
        env.journal.nodeEnded(pn.node.name)
      })
    )
  )

export interface RunResult {
  readonly ok: boolean
  readonly interrupted: boolean
  /** every failure was input the user must fix (see NodeRunError.badInput) */
  readonly badInput?: boolean
}

/** Runs the selected part of a pipeline. Failures are recorded per node; independent branches go on. */
export const runPipeline = (req: RunRequest, runId: string) =>
  Effect.gen(function* () {
    const store = yield* ArtifactStore
    const journal = yield* RunJournal
    const progress = yield* ProgressBar
    const executor = yield* ShardExecutor
    const remote = Option.getOrUndefined(yield* Effect.serviceOption(RemoteShards))
    const env: Env = { store, journal, progress, executor, remote, req, runtime: runtimeFacts(), nodeRuntime: new Map(), runId }
    const selected = req.select.length > 0 ? ancestorsOf(req.pipeline, req.select) : undefined
    const order = topoOrder(req.pipeline).filter((pn) => !selected || selected.has(pn.node.name))
    const index = store.readIndex(req.pipeline.name)
    const outcomes = yield* settleCached(env, order, index)
    const failedNodes = new Set<string>()
    const badInputs = new Set<string>()
    saveFingerprints()
    const done = new Map<string, Deferred.Deferred<NodeOutcome, UpstreamFailed>>()
    for (const pn of order) if (!outcomes.has(pn.node.name)) done.set(pn.node.name, yield* Deferred.make<NodeOutcome, UpstreamFailed>())
    const permits = yield* Effect.makeSemaphore(req.concurrency)
    const toRun = order.filter((pn) => !outcomes.has(pn.node.name))
    progress.plan(
      toRun.length,
      toRun.map((pn) => ({
        name: pn.node.name,
        deps: Object.values(pn.inputs)
          .map((w) => w.node)
          .filter((d) => !outcomes.has(d)),
        expectedMs: store.getRef(pn.node.name)?.ms,
      }))
    )
    // a cluster that cannot take work fails the run before anything is submitted
    if (remote && toRun.length > 0) yield* remote.preflight
    // Global nodes query this thread's DuckDB. When one is sure to compute (its inputs are all settled,
    // so it is stale itself), open it now while the first nodes run elsewhere, in a turn of its own.
    // One that waits on upstream nodes may still be found cached once they finish (a forced node that
    // wrote the same bytes): loading DuckDB for it up front would block this thread for nothing.
    // Worker threads start after that load: starting them meanwhile (a bundle to parse each, on every
    // core) can leave the main thread waiting for a core through the load.
    const certain = (pn: PipelineNode) => Object.values(pn.inputs).every((w) => outcomes.has(w.node))
    const warm = () => {
      if (toRun.some((pn) => pn.node.kind !== "global" && pn.node.worker)) executor.warm?.(req.pipeline.name)
    }
    if (toRun.some((pn) => pn.node.kind === "global" && certain(pn) && !onOwnThread(pn.node, req.params.values.get(pn.node.name)))) setTimeout(() => void instance().then(warm, warm), 0)
    else warm()
    const byName = new Map(order.map((pn) => [pn.node.name, pn]))

    const upstreamInputs = (pn: PipelineNode) =>
      Effect.gen(function* () {
        const inputs: Record<string, ResolvedInput> = {}
        for (const [name, wire] of Object.entries(pn.inputs)) {
          const settled = outcomes.get(wire.node)
          const out = (settled ?? (yield* Deferred.await(done.get(wire.node)!))).outputs[wire.output]
          if (!out) return yield* Effect.fail(new UpstreamFailed(wire.node))
          inputs[name] = out
        }
        return inputs
      })

    /** Runs a node; when an input shard turns out corrupt, recomputes its producer and tries again. */
    const runWithRepair = (pn: PipelineNode, inputs: Outputs, repairs: number): Effect.Effect<NodeOutcome, DagError> =>
      executeNode(env, pn, inputs).pipe(
        Effect.catchTag("CorruptShardError", (e) =>
          Effect.gen(function* () {
            journal.event("corrupt-shard", { node: pn.node.name, hash: e.hash, message: e.message })
            journal.nodeError(pn.node.name, e.message)
            if (repairs >= 2) return yield* Effect.fail(e)
            const fresh: Record<string, ResolvedInput> = {}
            for (const [name, wire] of Object.entries(pn.inputs)) {
              const upstream = byName.get(wire.node)!
              const current = outcomes.get(wire.node)!
              const holdsHash = current.outputs[wire.output]?.manifest.kind === "dataset" && (current.outputs[wire.output]!.manifest as DatasetManifest).shards.some((s) => s.hash === e.hash)
              if (holdsHash) {
                const upInputs = yield* upstreamInputs(upstream).pipe(Effect.mapError(() => e))
                const repaired = yield* runWithRepair(upstream, upInputs, repairs + 1)
                outcomes.set(wire.node, repaired)
              }
              fresh[name] = outcomes.get(wire.node)!.outputs[wire.output]!
            }
            return yield* runWithRepair(pn, fresh, repairs + 1)
          })
        )
      )

    const runOne = (pn: PipelineNode) =>
      Effect.gen(function* () {
        const inputs = yield* upstreamInputs(pn).pipe(Effect.either)
        if (inputs._tag === "Left") {
          journal.nodeFailed(pn.node.name, "skipped", `upstream ${inputs.left.node} failed`)
          progress.end(pn.node.name)
          yield* Deferred.fail(done.get(pn.node.name)!, new UpstreamFailed(pn.node.name))
          return
        }
        const exit = yield* permits
          .withPermits(1)(runWithRepair(pn, inputs.right, 0))
          .pipe(Effect.exit)
        if (Exit.isSuccess(exit)) {
          outcomes.set(pn.node.name, exit.value)
          yield* Deferred.succeed(done.get(pn.node.name)!, exit.value)
        } else {
          if (Cause.isInterruptedOnly(exit.cause)) {
            journal.nodeFailed(pn.node.name, "failed", "interrupted")
            yield* Deferred.interrupt(done.get(pn.node.name)!)
            return yield* Effect.interrupt
          }
          if (Option.exists(Cause.failureOption(exit.cause), (e) => (e as { badInput?: boolean }).badInput === true)) badInputs.add(pn.node.name)
          const failure = Option.match(Cause.failureOption(exit.cause), {
            onNone: () => Cause.pretty(exit.cause),
            onSome: (e) => (e as { message?: string }).message ?? String(e),
          })
          failedNodes.add(pn.node.name)
          journal.nodeFailed(pn.node.name, "failed", withDiskAdvice(failure ?? "failed"))
          journal.event("node-failed", { node: pn.node.name, error: failure })
          yield* Deferred.fail(done.get(pn.node.name)!, new UpstreamFailed(pn.node.name))
        }
      })

    yield* Effect.forEach(
      order.filter((pn) => !outcomes.has(pn.node.name)),
      runOne,
      { concurrency: "unbounded", discard: true }
    )
    progress.close()
    saveFingerprints()
    const ok = order.every((pn) => outcomes.has(pn.node.name))
    const records = Object.fromEntries([...outcomes].map(([name, o]) => [name, o.record]))
    if (Object.entries(records).some(([name, r]) => index[name]?.key !== r.key)) {
      yield* storeTryPromise("index/", () => store.writeIndex(req.pipeline.name, { ...index, ...records }))
    }
    return { ok, interrupted: false, badInput: failedNodes.size > 0 && [...failedNodes].every((n) => badInputs.has(n)) } satisfies RunResult
  })
