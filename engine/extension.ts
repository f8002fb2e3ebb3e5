/**
 * The extension point: what a project (or a library of nodes) adds to the CLI without the engine
 * knowing it. Listed in dag.config.ts (`extensions: [...]`):
 *
 *   - `commands`: extra verbs (`dag tokenize`), as @effect/cli commands;
 *   - `exportFormats`: extra `dag export --format NAME` writers for datasets (gpt-neox files);
 *   - `executors`: other places shards can run (`dag run --executor NAME`).
 */
import type { Command } from "@effect/cli"
import type { Executor } from "./exec/executors.js"

/** A dataset being exported: its rows through DuckDB, and where to write. */
export interface DatasetExport {
  /** the node and output, as `dag sql` names the view (a base name for files) */
  readonly name: string
  /** a SQL relation over the dataset's shards, for FROM clauses */
  readonly source: string
  readonly columns: ReadonlyArray<string>
  /** the output folder (absolute) */
  readonly out: string
  readonly query: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>
  readonly stream: (sql: string) => Promise<AsyncIterable<Record<string, unknown>>>
}

export interface ExportFormat {
  /** one line for `dag export --help` */
  readonly description: string
  /** which of a node's dataset outputs it writes (default: every one) */
  readonly outputs?: (names: ReadonlyArray<string>) => ReadonlyArray<string>
  /** writes the files; returns what to tell the user, one line each */
  readonly write: (dataset: DatasetExport) => Promise<ReadonlyArray<string>>
}

export interface Extension {
  readonly name: string
  readonly commands?: ReadonlyArray<Command.Command<any, never, any, any>>
  /** per command name: its line in `dag --help` and the examples its own --help shows */
  readonly commandHelp?: Readonly<Record<string, { readonly summary: string; readonly examples?: ReadonlyArray<string> }>>
  readonly exportFormats?: Readonly<Record<string, ExportFormat>>
  /** where shards can run besides local and slurm (`dag run --executor NAME`) */
  readonly executors?: ReadonlyArray<Executor>
}

export const defineExtension = (e: Extension): Extension => e
