/**
 * What the driver and a Slurm task share, all as plain files on the shared filesystem:
 *   <runs>/<run>/slurm/<node>/spec.json    the shards (keys, structs, inputs) a task may be asked for
 *   <runs>/<run>/slurm/<node>/result.json  a global node's outputs, written by its job
 *   <runs>/<run>/slurm/<node>/logs/        the jobs' stdout and stderr (%A_%a.out/.err)
 *   <runs>/<run>/slurm/jobs.jsonl          every job the run submitted or re-attached to (dag cancel)
 *   <store>/slurm/inflight/<key>.json      which job is computing a shard key (a restarted driver re-attaches)
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { ResolvedInput } from "../exec/run-global.js"
import type { SourceUnit } from "../node.js"
import type { KeyStruct } from "../plan.js"
import type { Manifest } from "../store/store.js"
import { ensureDir, readJsonOr, writeFileAtomic } from "../store/fsx.js"

export interface ShardSpec {
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: ReadonlyArray<string>
  /** map nodes: the input shard's content hash */
  readonly input?: string
  /** source nodes: the unit to read */
  readonly unit?: SourceUnit
}

export interface GlobalSpec {
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: Readonly<Record<string, ResolvedInput>>
}

export interface TaskSpec {
  readonly format: 1
  readonly pipeline: string
  readonly node: string
  readonly kind: "source" | "map" | "global"
  readonly store: string
  readonly runs: string
  readonly run: string
  readonly profile: string
  readonly overrides: ReadonlyArray<string>
  /** by shard index */
  readonly shards: Readonly<Record<string, ShardSpec>>
  readonly global?: GlobalSpec
}

export interface GlobalResult {
  readonly key: string
  readonly outputs: Record<string, Manifest>
  readonly dropped: Record<string, number>
  readonly droppedSamples: Record<string, Array<unknown>>
  readonly rowsOut: number
  readonly host: string
  readonly ms: number
  readonly logs: ReadonlyArray<string>
}

export interface Inflight {
  readonly job: string
  readonly run: string
  readonly node: string
  readonly attempt: number
  /** the task's stderr log */
  readonly log: string
  /** global nodes: where the job writes its result */
  readonly result?: string
}

export interface SubmittedJob {
  readonly job: string
  readonly node: string
  readonly tasks: number
  readonly shards: number
  readonly attempt: number
  readonly at: string
  readonly attached?: boolean
}

export const safeName = (node: string): string => node.replace(/[^a-zA-Z0-9._-]+/g, "_")
export const runSlurmDir = (runs: string, run: string): string => path.join(runs, run, "slurm")
export const nodeDir = (runs: string, run: string, node: string): string => path.join(runSlurmDir(runs, run), safeName(node))
export const specPath = (runs: string, run: string, node: string): string => path.join(nodeDir(runs, run, node), "spec.json")
export const resultPath = (runs: string, run: string, node: string): string => path.join(nodeDir(runs, run, node), "result.json")
export const jobsPath = (runs: string, run: string): string => path.join(runSlurmDir(runs, run), "jobs.jsonl")
const inflightDir = (store: string) => path.join(store, "slurm", "inflight")
const inflightPath = (store: string, key: string) => path.join(inflightDir(store), `${key}.json`)

const tmpDir = (store: string) => path.join(store, "tmp")

export const readSpec = (runs: string, run: string, node: string): TaskSpec | undefined => readJsonOr<TaskSpec | undefined>(specPath(runs, run, node), undefined)

/** Merges new shards into the node's spec (a repaired node may submit again within one run). */
export const writeSpec = (spec: TaskSpec): void => {
  const file = specPath(spec.runs, spec.run, spec.node)
  const previous = readJsonOr<TaskSpec | undefined>(file, undefined)
  ensureDir(path.dirname(file))
  writeFileAtomic(tmpDir(spec.store), file, JSON.stringify({ ...spec, shards: { ...previous?.shards, ...spec.shards } }))
}

export const readInflight = (store: string, key: string): Inflight | undefined => readJsonOr<Inflight | undefined>(inflightPath(store, key), undefined)

export const writeInflight = (store: string, key: string, i: Inflight): void => {
  ensureDir(inflightDir(store))
  writeFileAtomic(tmpDir(store), inflightPath(store, key), JSON.stringify(i), false)
}

export const clearInflight = (store: string, key: string): void => fs.rmSync(inflightPath(store, key), { force: true })

/**
 * The Slurm jobs (array ids without the task) the store's in-flight notes name for a run. They are
 * written before the run's job list, so a driver killed right after `sbatch` leaves them alone.
 */
export const inflightJobsOf = (store: string, run: string): ReadonlyArray<string> => {
  const dir = inflightDir(store)
  const notes = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : []
  const jobs = notes.map((f) => readJsonOr<Inflight | undefined>(path.join(dir, f), undefined)).filter((i): i is Inflight => i?.run === run)
  return [...new Set(jobs.map((i) => i.job.split("_")[0]!))]
}

export const recordJob = (runs: string, run: string, job: SubmittedJob): void => {
  ensureDir(runSlurmDir(runs, run))
  fs.appendFileSync(jobsPath(runs, run), `${JSON.stringify(job)}\n`)
}

export const readJobs = (runs: string, run: string): ReadonlyArray<SubmittedJob> => {
  const file = jobsPath(runs, run)
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SubmittedJob)
}

/** The last lines of a log file (the end of a large log is read, not the whole file). */
export const tailOf = (file: string, lines = 15): string => {
  try {
    const fd = fs.openSync(file, "r")
    try {
      const size = fs.fstatSync(fd).size
      const len = Math.min(size, 16 * 1024)
      const buf = Buffer.alloc(len)
      fs.readSync(fd, buf, 0, len, size - len)
      return buf
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .slice(-lines)
        .join("\n")
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return ""
  }
}
