/**
 * The `dag` command. Built into dist/dag.cjs by scripts/build.mjs and started by bin/dag.js with
 * V8's code cache, so a fully cached `dag run` answers in a fraction of a second.
 */
import { Command } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { doctorCommand } from "./doctor.js"
import { exportCommand } from "./export.js"
import { publishCommand } from "./publish.js"
import { gcCommand } from "./gc.js"
import { initCommand } from "./init.js"
import { graphCommand, lsCommand, runsCommand, statusCommand, whyCommand } from "./inspect.js"
import { reportCommand } from "./report.js"
import { runCommand } from "./run.js"
import { cancelCommand, execShardCommand } from "./slurm.js"
import { sqlCommand } from "./sql.js"
import { projectExtensions, registerExtensionExecutors } from "./extensions.js"
import { redactUrlCredentials } from "../store/fsx.js"
import { installCrashHandlers } from "../crash.js"
import { addExamples, overview } from "./overview.js"
import { plainWhenNotTerminal, printable, tidyHelpOutput } from "./format.js"
import { packageVersion } from "../paths.js"
import { didYouMean } from "../suggest.js"

const verbs = [
  initCommand,
  runCommand,
  statusCommand,
  runsCommand,
  whyCommand,
  graphCommand,
  lsCommand,
  sqlCommand,
  exportCommand,
  publishCommand,
  reportCommand,
  gcCommand,
  doctorCommand,
  cancelCommand,
  execShardCommand,
  ...projectExtensions().flatMap((e) => e.commands ?? []),
] as const

const dag = Command.make("dag").pipe(Command.withDescription("mathdag — typed, cached dataflow pipelines for math LM corpora."), Command.withSubcommands(verbs))

/** A command's verb (its first name; a command with subcommands included). */
const verbOf = (c: Command.Command<any, any, any, any>): string => [...Command.getNames(c)][0] ?? ""

installCrashHandlers()
registerExtensionExecutors()
plainWhenNotTerminal(process.stdout)
plainWhenNotTerminal(process.stderr)

const argv = process.argv.slice(2)
if (argv.length === 0 || (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h"))) {
  // the overview: one line per verb and the commands most people want first
  const extra = projectExtensions().flatMap((e) =>
    (e.commands ?? []).map((c) => {
      const name = verbOf(c)
      return [name, `${e.commandHelp?.[name]?.summary ?? "a command"} (from the ${e.name} extension)`] as const
    })
  )
  process.stdout.write(
    overview(
      packageVersion(),
      extra.filter(([n]) => n)
    )
  )
  process.exit(0)
}
if (argv[0] && !argv[0].startsWith("-") && !verbs.some((c) => verbOf(c) === argv[0])) {
  // a typo gets the nearest verb, not @effect/cli's list of every subcommand
  const known = verbs.map(verbOf).filter((v) => v && v !== "exec-shard")
  process.stderr.write(`dag: unknown command "${printable(argv[0])}"${didYouMean(argv[0], known) || "."} Commands: ${known.join(", ")} (\`dag --help\` says what each does)\n`)
  process.exit(2)
}
if (argv.includes("--help") || argv.includes("-h")) {
  for (const e of projectExtensions()) for (const [verb, h] of Object.entries(e.commandHelp ?? {})) addExamples(verb, h.examples ?? [])
  tidyHelpOutput(process.stdout)
}

const cli = Command.run(dag, { name: "dag", version: packageVersion() })

// Only the services the CLI uses: the full NodeContext pulls in much more and costs start-up time.
const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const KNOWN = new Set(["PipelineError", "ParamError", "NotFoundError", "ConfigError", "StoreError", "CorruptShardError", "NodeRunError", "SqlError", "InputError", "SlurmError"])

cli(process.argv).pipe(
  Effect.catchAll((e: unknown) => {
    const tag = (e as { _tag?: string })._tag
    if (tag && KNOWN.has(tag)) {
      return Console.error(`error: ${printable(redactUrlCredentials((e as { message: string }).message), true)}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 2))))
    }
    if (tag === "ValidationError" || tag?.startsWith("Help") || tag === "CommandMismatch" || tag === "MissingValue" || tag === "InvalidValue" || tag === "UnclusteredFlag" || tag === "CorrectedFlag") {
      return Effect.sync(() => (process.exitCode = 2))
    }
    return Effect.fail(e)
  }),
  Effect.catchAllDefect((d) => Console.error(`internal error: ${Cause.pretty(Cause.die(d))}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 3))))),
  Effect.provide(platform),
  NodeRuntime.runMain({
    disableErrorReporting: false,
    // Keep the exit code a command chose (130 after Ctrl-C, 1 when a node failed, 2 for bad input).
    teardown: (exit, onExit) =>
      onExit(typeof process.exitCode === "number" && process.exitCode !== 0 ? process.exitCode : Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : Exit.isFailure(exit) ? 130 : 0),
  })
)
