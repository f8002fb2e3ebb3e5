/**
 * The run journal: runs/<run-id>/run.json (a snapshot, rewritten atomically as the run goes)
 * and runs/<run-id>/events.jsonl (append-only, so even a killed run leaves its history).
 * Reports and `dag status` read these; they never recompute anything.
 */
import { Context } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { randomBytes } from "node:crypto"
import type { Cause } from "./plan.js"
import { ensureDir, isPidAlive, redactUrlCredentials, writeFileAtomic } from "./store/fsx.js"
import { readMetadata, RunRecordSchema } from "./store/metadata.js"

export type NodeStatus = "pending" | "running" | "cached" | "computed" | "partial" | "failed" | "skipped" | "planned"

export interface ShardLog {
  readonly index: number
  readonly key: string
  readonly status: "cached" | "computed" | "failed"
  readonly ms: number
  readonly rowsIn: number
  readonly rowsOut: number
  readonly hash?: string
  /** lineage: input shard hashes or source unit ids */
  readonly inputs: ReadonlyArray<string>
  readonly attempts: number
  readonly host: string
  /** worker thread id (0: main thread) */
  readonly thread?: number
  readonly error?: string
  /** the Slurm job (array task) that computed it */
  readonly job?: string
  /** a failed cluster task's stderr log */
  readonly log?: string
}

export interface NodeLog {
  node: string
  kind: string
  status: NodeStatus
  key?: string
  causes: Array<Cause>
  params: unknown
  outputs: Record<string, string>
  shards: { total: number; cached: number; computed: number; failed: number }
  rows: { in: number; out: number }
  dropped: Record<string, number>
  /** a few dropped rows per reason (shortened), for the report */
  droppedSamples: Record<string, ReadonlyArray<unknown>>
  ms: number
  startedAt?: string
  endedAt?: string
  errors: Array<string>
  /** the last lines the node logged (ctx.log), for status and the report */
  messages?: Array<string>
  shardLog: Array<ShardLog>
}

export interface RunRecord {
  run: string
  pipeline: string
  profile: string
  /** where shards ran: local (worker threads) or slurm */
  executor?: string
  /** how long the main thread's event loop was held up at worst (progress and Ctrl-C wait that long) */
  mainThread?: { maxStallMs: number; p99StallMs: number; stalls?: Array<{ atMs: number; ms: number; running: Array<string> }> }
  status: "running" | "ok" | "failed" | "interrupted" | "planned"
  dryRun: boolean
  startedAt: string
  endedAt?: string
  ms?: number
  host: string
  pid: number
  argv: ReadonlyArray<string>
  overrides: ReadonlyArray<string>
  nodes: Array<NodeLog>
}

export const newRunId = (): string => {
  const d = new Date()
  const p = (n: number, w = 2) => String(n).padStart(w, "0")
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString("hex")}`
}

export const emptyNodeLog = (node: string, kind: string, params: unknown): NodeLog => ({
  node,
  kind,
  status: "pending",
  causes: [],
  params,
  outputs: {},
  shards: { total: 0, cached: 0, computed: 0, failed: 0 },
  rows: { in: 0, out: 0 },
  dropped: {},
  droppedSamples: {},
  ms: 0,
  errors: [],
  shardLog: [],
})

export class Journal {
  readonly dir: string
  private lastFlush = 0
  private timer: NodeJS.Timeout | undefined
  private readonly byNode = new Map<string, NodeLog>()

  constructor(
    runsDir: string,
    readonly record: RunRecord
  ) {
    this.dir = path.join(runsDir, record.run)
    ensureDir(this.dir)
    for (const n of record.nodes) this.byNode.set(n.node, n)
    // The first snapshot is written with the first event that starts work, so a fully cached
    // run writes run.json once; events.jsonl records the start either way.
  }

  node(name: string): NodeLog {
    const n = this.byNode.get(name)
    if (!n) throw new Error(`journal: unknown node ${name}`)
    return n
  }

  // ------------------------------------------------------------ what happens to a node
  // The runner reports through these; the record's shape (counters, shard log, events) is kept here.

  /** The node starts computing: counters and shard log start empty. */
  nodeStarted(name: string): void {
    const n = this.node(name)
    n.status = "running"
    n.startedAt = new Date().toISOString()
    n.shards = { total: 0, cached: 0, computed: 0, failed: 0 }
    n.shardLog = []
  }

  /** Its cache key and, when it recomputes, why. */
  nodeKeyed(name: string, key: string, causes: Array<Cause> = []): void {
    const n = this.node(name)
    n.key = key
    n.causes = causes
  }

  shardsPlanned(name: string, total: number): void {
    this.node(name).shards.total = total
  }

  /** One shard's outcome: its counter, its line in the shard log, and (unless cached) an event. */
  shard(name: string, entry: ShardLog): void {
    const n = this.node(name)
    n.shards[entry.status]++
    n.shardLog.push(entry)
    if (entry.status === "computed") this.event("shard", { node: name, ...entry })
    else if (entry.status === "failed") this.event("shard-failed", { node: name, index: entry.index, error: entry.error, attempts: entry.attempts })
  }

  /** A global node computed: it counts as its one shard (a cluster's run also logged where, with `shard`). */
  globalComputed(name: string): void {
    this.node(name).shards.computed = 1
  }

  /** Shards finish in any order; the log reads in shard order. */
  shardsDone(name: string): void {
    this.node(name).shardLog.sort((a, b) => a.index - b.index)
  }

  /** A line the node logged (ctx.log): an event, and the last `keep` kept on the node. */
  nodeMessage(name: string, message: string, keep: number): void {
    this.event("log", { node: name, message })
    const kept = (this.node(name).messages ??= [])
    kept.push(message)
    if (kept.length > keep) kept.shift()
  }

  /** The node's outputs came from the store (its key was found). */
  nodeCached(
    name: string,
    r: {
      readonly key: string
      readonly outputs: Record<string, string>
      readonly shards: number
      readonly rows: NodeLog["rows"]
      readonly dropped: Record<string, number>
      readonly droppedSamples: Record<string, ReadonlyArray<unknown>>
      readonly ms: number
    }
  ): void {
    const n = this.node(name)
    Object.assign(n, { status: "cached", key: r.key, causes: [], outputs: r.outputs, rows: r.rows, dropped: r.dropped, droppedSamples: r.droppedSamples, ms: r.ms })
    n.shards = { total: r.shards, cached: r.shards, computed: 0, failed: 0 }
  }

  /** The node committed its outputs; its status follows from its shard counters. */
  nodeFinished(
    name: string,
    r: {
      readonly outputs: Record<string, string>
      readonly rows: NodeLog["rows"]
      readonly dropped: Record<string, number>
      readonly droppedSamples: Record<string, ReadonlyArray<unknown>>
      readonly ms: number
    }
  ): NodeStatus {
    const n = this.node(name)
    const status: NodeStatus = n.shards.cached > 0 && n.shards.computed > 0 ? "partial" : n.shards.computed === 0 && n.shards.total > 0 ? "cached" : "computed"
    Object.assign(n, { status, ...r })
    return status
  }

  /** The node's work is over, whatever its outcome. */
  nodeEnded(name: string): void {
    this.node(name).endedAt = new Date().toISOString()
  }

  /** A problem worth keeping on the node (a shard moved aside and recomputed), not a failure. */
  nodeError(name: string, message: string): void {
    this.node(name).errors.push(message)
  }

  /** The node failed, or was skipped because an upstream node failed. */
  nodeFailed(name: string, status: "failed" | "skipped", error: string): void {
    const n = this.node(name)
    n.status = status
    n.errors.push(error)
  }

  /** Appends an event; `quiet` events (run start) do not trigger a snapshot of run.json. */
  event(type: string, data: Record<string, unknown>, options: { readonly quiet?: boolean } = {}): void {
    this.guard(() => fs.appendFileSync(path.join(this.dir, "events.jsonl"), redactUrlCredentials(JSON.stringify({ t: new Date().toISOString(), type, ...data })) + "\n"))
    if (options.quiet) return
    if (this.lastFlush === 0) this.flush()
    else this.scheduleFlush()
  }

  private scheduleFlush(): void {
    const now = Date.now()
    if (now - this.lastFlush > 1000) this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.flush()
      }, 1000)
      this.timer.unref()
    }
  }

  flush(): void {
    this.lastFlush = Date.now()
    // Not fsynced: the journal describes the store, it is not its source of truth.
    this.guard(() => writeFileAtomic(path.join(this.dir, ".tmp"), path.join(this.dir, "run.json"), redactUrlCredentials(JSON.stringify(this.record)), false))
  }

  private warned = false

  /**
   * The journal describes the store; it is not its source of truth. A journal write that fails
   * (disk full, permissions) warns once and the run goes on: results are committed by the store.
   */
  private guard(write: () => void): void {
    try {
      write()
    } catch (e) {
      if (this.warned) return
      this.warned = true
      const code = (e as { code?: string }).code
      const what = code === "ENOSPC" ? "no space left on the device" : code === "EACCES" || code === "EPERM" ? "permission denied" : (e as Error).message.split("\n")[0]
      process.stderr.write(
        `warning: could not write the run journal in ${this.dir} (${what}); the run goes on and its results are stored, but this run's record will be incomplete. Free space or set DAG_RUNS to another folder.\n`
      )
    }
  }

  finish(status: RunRecord["status"]): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.record.status = status
    this.record.endedAt = new Date().toISOString()
    this.record.ms = Date.parse(this.record.endedAt) - Date.parse(this.record.startedAt)
    this.event("run-end", { status }, { quiet: true })
    this.flush()
    fs.rmSync(path.join(this.dir, ".tmp"), { recursive: true, force: true })
  }
}

export class RunJournal extends Context.Tag("mathdag/RunJournal")<RunJournal, Journal>() {}

export const newRecord = (fields: Omit<RunRecord, "status" | "startedAt" | "host" | "pid">): RunRecord => ({
  ...fields,
  status: fields.dryRun ? "planned" : "running",
  startedAt: new Date().toISOString(),
  host: os.hostname(),
  pid: process.pid,
})

// ---------------------------------------------------------------- reading runs back

export const listRuns = (runsDir: string): ReadonlyArray<string> => {
  try {
    return fs
      .readdirSync(runsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(runsDir, d.name, "run.json")))
      .map((d) => d.name)
      .sort()
  } catch {
    return []
  }
}

/** Reads a run record; a run whose process died without finishing reads as "interrupted". */
export const readRun = (runsDir: string, id: string): RunRecord | undefined => {
  const r = readMetadata(path.join(runsDir, id, "run.json"), RunRecordSchema, undefined, "this run is left out of status, sql, report and gc's kept runs") as RunRecord | undefined
  if (r && r.status === "running" && r.host === os.hostname() && !isPidAlive(r.pid)) r.status = "interrupted"
  return r
}

/** The newest run: not a dry run when `real` is set, of one pipeline, or only one that succeeded. */
export const latestRun = (runsDir: string, options: { real?: boolean; pipeline?: string; ok?: boolean } = {}): RunRecord | undefined => {
  const ids = listRuns(runsDir)
  for (let i = ids.length - 1; i >= 0; i--) {
    const r = readRun(runsDir, ids[i]!)
    if (r && (!options.real || !r.dryRun) && (!options.pipeline || r.pipeline === options.pipeline) && (!options.ok || r.status === "ok")) return r
  }
  return undefined
}
