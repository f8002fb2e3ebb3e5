/** Options several verbs share, described once (what it does, its default, an example). */
import { Args, Options } from "@effect/cli"

/** `--run`: which run a command reads (resolved by engine/runs.ts). */
export const runOption = (fallback = "the latest successful run") =>
  Options.text("run").pipe(Options.optional, Options.withDescription(`a run id, a unique prefix of one, latest, or latest~N (N runs before the latest), e.g. --run latest~1; default: ${fallback}`))

/** `--pipeline`: narrows the default run to one pipeline's. */
export const pipelineRunOption = Options.text("pipeline").pipe(
  Options.optional,
  Options.withDescription("take the latest successful run of this pipeline, e.g. --pipeline proof-pile-2; default: of any pipeline")
)

/** `--profile`: a profile of dag.config.ts (which store, params and executor). */
export const profileOption = Options.text("profile").pipe(Options.optional, Options.withDescription("config profile from dag.config.ts, e.g. --profile full; default: the config's defaultProfile"))

/** `--json`: what a script reads instead of the table. */
export const jsonOption = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table, e.g. dag runs --json | jq '.[0]'"))

/** A node named on the command line. */
export const nodeArg = (what: string) => Args.text({ name: "node" }).pipe(Args.withDescription(`${what}, e.g. owm/extract (\`dag graph PIPELINE\` lists them)`))
