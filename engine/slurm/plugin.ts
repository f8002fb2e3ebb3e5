/** The Slurm executor as the run sees it: shards go to array jobs; this process computes none itself. */
import type { Executor } from "../exec/executors.js"
import { ShardExecutor } from "../exec/pool.js"
import { slurmCommands } from "./client.js"
import { slurmExecutor } from "./executor.js"

export const slurm: Executor = {
  name: "slurm",
  description: "Slurm array jobs against the shared store",
  shards: () => ShardExecutor.inline(1),
  remote: (ctx) =>
    slurmExecutor(slurmCommands(), { settings: ctx.settings.slurm, store: ctx.store, runs: ctx.settings.runs, root: ctx.settings.root, profile: ctx.settings.profile, overrides: ctx.overrides }),
  interruptedNote: (runId) => `Slurm jobs it submitted keep running (a rerun re-attaches to them); stop them with \`dag cancel ${runId}\``,
}
