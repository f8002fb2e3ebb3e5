/** Options several verbs share, described once. */
import { Options } from "@effect/cli"

/** `--run`: which run a command reads (resolved by engine/runs.ts). */
export const runOption = (fallback = "the latest successful run") =>
  Options.text("run").pipe(Options.optional, Options.withDescription(`a run id, a unique prefix of one, latest, or latest~N (N runs before the latest); default: ${fallback}`))

/** `--pipeline`: narrows the default run to one pipeline's. */
export const pipelineRunOption = Options.text("pipeline").pipe(Options.optional, Options.withDescription("take the latest successful run of this pipeline (default: of any pipeline)"))
