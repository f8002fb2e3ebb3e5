/**
 * The Slurm commands mathdag uses (sbatch, squeue, sacct, scancel, scontrol), as a service.
 * Everything goes through the documented CLI so that it works with any Slurm a site runs; the
 * only state kept here is what the commands print.
 */
import { Context, Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { SlurmError } from "../errors.js"

export interface TaskState {
  /** Slurm's job state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, … */
  readonly state: string
  /** the reason (pending) or node list (running) column */
  readonly where: string
}

export interface Slurm {
  /** Fails with a SlurmError that says which part is missing; returns the cluster's MaxArraySize. */
  readonly preflight: Effect.Effect<{ readonly maxArraySize: number }, SlurmError>
  /** Submits a batch script; returns the job id. Slurm's error text is kept verbatim. */
  readonly submit: (scriptPath: string, flags: ReadonlyArray<string>) => Effect.Effect<string, SlurmError>
  /** States of jobs and array tasks by id ("12" or "12_3"); ids Slurm no longer knows are absent. */
  readonly states: (jobIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, TaskState>, SlurmError>
  readonly cancel: (jobIds: ReadonlyArray<string>) => Effect.Effect<void, SlurmError>
}

export class SlurmClient extends Context.Tag("mathdag/SlurmClient")<SlurmClient, Slurm>() {
  static readonly live = Layer.sync(SlurmClient, () => slurmCommands())
}

interface Ran {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
}

const run = (cmd: string, args: ReadonlyArray<string>, timeoutMs = 60_000): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(cmd, args as Array<string>, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? 1) : 0
      resolve({ code: code as number | string, stdout: String(stdout), stderr: String(stderr) })
    })
  })

const missing = (cmd: string) =>
  new SlurmError({
    reason: "missing",
    message: `${cmd} was not found on PATH: the Slurm executor needs Slurm's client commands (Debian: slurm-client). Run from a login node, or start a one-machine cluster with scripts/slurm-local.sh start`,
  })

const call = (cmd: string, args: ReadonlyArray<string>, timeoutMs?: number) =>
  Effect.promise(() => run(cmd, args, timeoutMs)).pipe(Effect.flatMap((r) => (r.code === "ENOENT" ? Effect.fail(missing(cmd)) : Effect.succeed(r))))

const controllerDown = (detail: string) =>
  new SlurmError({
    reason: "down",
    message: `slurmctld is not responding (${detail.trim() || "no answer"}); nothing was submitted. Start it (scripts/slurm-local.sh start on one machine) or check SlurmctldHost in slurm.conf`,
    slurm: detail.trim(),
  })

const isControllerDown = (stderr: string) => /Unable to contact slurm controller|Connection refused|Socket timed out|Zero Bytes were transmitted/i.test(stderr)

/** Job ids Slurm prints: "12", "12_3", or a pending range "12_[4-9%2]" (expanded here). */
export const expandTaskIds = (id: string): ReadonlyArray<string> => {
  const m = /^(\d+)_\[([^\]]+)\]$/.exec(id)
  if (!m) return [id]
  const out: Array<string> = []
  for (const part of m[2]!.split("%")[0]!.split(",")) {
    const [a, b] = part.split("-").map(Number)
    for (let i = a!; i <= (b ?? a!); i++) out.push(`${m[1]}_${i}`)
  }
  return out
}

export const parseStates = (text: string): Map<string, TaskState> => {
  const out = new Map<string, TaskState>()
  for (const line of text.split("\n")) {
    const [id, state, where] = line.trim().split("|")
    if (!id || !state) continue
    // sacct prints "CANCELLED by 0"; keep the state word
    for (const t of expandTaskIds(id)) out.set(t, { state: state.split(" ")[0]!, where: where ?? "" })
  }
  return out
}

export const slurmCommands = (): Slurm => ({
  preflight: Effect.gen(function* () {
    yield* call("sbatch", ["--version"])
    const ping = yield* call("scontrol", ["ping"], 20_000)
    if (ping.code !== 0 || !/\bUP\b/.test(ping.stdout)) return yield* Effect.fail(controllerDown(ping.stderr || ping.stdout))
    const config = yield* call("scontrol", ["show", "config"], 20_000)
    const max = /^MaxArraySize\s*=\s*(\d+)/m.exec(config.stdout)
    return { maxArraySize: max ? Number(max[1]) : 1001 }
  }),
  submit: (scriptPath, flags) =>
    Effect.gen(function* () {
      const r = yield* call("sbatch", ["--parsable", ...flags, scriptPath])
      if (r.code !== 0) {
        if (isControllerDown(r.stderr)) return yield* Effect.fail(controllerDown(r.stderr))
        return yield* Effect.fail(new SlurmError({ reason: "rejected", message: `Slurm rejected the job:\n${r.stderr.trim()}`, slurm: r.stderr.trim() }))
      }
      // --parsable prints "jobid" or "jobid;cluster"
      return r.stdout.trim().split(";")[0]!
    }),
  states: (jobIds) =>
    Effect.gen(function* () {
      if (jobIds.length === 0) return new Map()
      const jobs = [...new Set(jobIds.map((j) => j.split("_")[0]!))].join(",")
      const q = yield* call("squeue", ["-h", "-r", "-t", "all", "-j", jobs, "-o", "%i|%T|%R"])
      if (q.code !== 0 && isControllerDown(q.stderr)) return yield* Effect.fail(controllerDown(q.stderr))
      const states = parseStates(q.code === 0 ? q.stdout : "")
      if (jobIds.every((j) => states.has(j))) return states
      // Finished jobs leave squeue after MinJobAge; accounting (or the job-completion log) still knows them.
      for (const args of [
        ["-n", "-P", "-X", "-j", jobs, "-o", "JobID,State,NodeList"],
        ["-c", "-n", "-P", "-j", jobs, "-o", "JobID,State,NodeList"],
      ]) {
        const a = yield* call("sacct", args)
        if (a.code !== 0) continue
        for (const [id, s] of parseStates(a.stdout)) if (!states.has(id)) states.set(id, s)
        break
      }
      return states
    }),
  cancel: (jobIds) =>
    Effect.gen(function* () {
      if (jobIds.length === 0) return
      const r = yield* call("scancel", [...new Set(jobIds)])
      if (r.code !== 0 && !/Invalid job id|already completing or completed/i.test(r.stderr)) {
        return yield* Effect.fail(new SlurmError({ reason: "failed", message: `scancel failed: ${r.stderr.trim()}`, slurm: r.stderr.trim() }))
      }
    }),
})
