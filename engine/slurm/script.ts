/**
 * Batch scripts and sbatch flags, as pure functions of what to run. An array job's script maps
 * SLURM_ARRAY_TASK_ID to its shard indices, so one script serves every task of the array.
 */
import * as path from "node:path"
import { resourceFlags, type SlurmResources } from "./settings.js"

/** Quotes a string for bash. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** Splits a list into runs of at most `size`. */
export const chunk = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export interface ScriptInput {
  readonly node: string
  readonly run: string
  /** the Node.js binary and the dag entry point the task runs */
  readonly nodeBin: string
  readonly dagBin: string
  readonly store: string
  readonly runs: string
  readonly setup: ReadonlyArray<string>
  /** shard indices per array task; undefined for a global node's single job */
  readonly batches?: ReadonlyArray<ReadonlyArray<number>>
}

export const batchScript = (s: ScriptInput): string => {
  const lines = [
    "#!/bin/bash",
    `# mathdag task: node ${s.node}, run ${s.run}`,
    "set -o pipefail",
    // tasks never rebuild the bundle: the driver did, and many tasks racing to rebuild would clash
    `export DAG_NO_REBUILD=1 DAG_STORE=${shq(s.store)} DAG_RUNS=${shq(s.runs)}`,
    ...s.setup,
  ]
  const exec = `exec ${shq(s.nodeBin)} ${shq(s.dagBin)} exec-shard ${shq(s.run)} ${shq(s.node)}`
  if (!s.batches) return [...lines, exec, ""].join("\n")
  return [...lines, "SHARDS=(", ...s.batches.map((b) => `  ${shq(b.join(" "))}`), ")", `${exec} \${SHARDS[$SLURM_ARRAY_TASK_ID]}`, ""].join("\n")
}

export interface FlagInput {
  readonly node: string
  readonly logs: string
  readonly root: string
  readonly resources: SlurmResources
  /** number of array tasks; undefined for a single job */
  readonly tasks?: number
}

export const sbatchFlags = (f: FlagInput): ReadonlyArray<string> => {
  const pattern = f.tasks === undefined ? "%j" : "%A_%a"
  return [
    `--job-name=dag:${f.node}`,
    ...(f.tasks === undefined ? [] : [`--array=0-${f.tasks - 1}`]),
    `--output=${path.join(f.logs, `${pattern}.out`)}`,
    `--error=${path.join(f.logs, `${pattern}.err`)}`,
    `--chdir=${f.root}`,
    ...resourceFlags(f.resources),
  ]
}

/** Where a job's stderr goes (matches sbatchFlags' patterns). */
export const stderrOf = (logs: string, job: string): string => path.join(logs, `${job}.err`)
