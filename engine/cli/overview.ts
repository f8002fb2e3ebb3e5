/** `dag` and `dag --help`: every verb in one line, and where to start. */
const VERBS: ReadonlyArray<readonly [string, string]> = [
  ["init [DIR]", "create a project that runs at once (dag.config.ts, pipelines/, nodes/, schemas/)"],
  ["run PIPELINE", "run a pipeline; only what changed recomputes, down to the shard"],
  ["status", "a run from its journal: nodes, shards, rows, drops, errors"],
  ["runs", "list runs, newest first"],
  ["why NODE", "is NODE up to date, and if not, what changed (code, params, data, dependencies)"],
  ["graph [PIPELINE]", "the DAG as text or Mermaid"],
  ["ls", "the datasets of a run and their `dag sql` view names"],
  ['sql ["QUERY"]', "DuckDB SQL over a run's datasets (read-only; no query: a prompt)"],
  ["export NODE --out DIR", "a node's outputs as Parquet, Arrow, JSON Lines (or an extension's format)"],
  ["publish [CONFIG…] --to hf://…", "a run's datasets (or a model) to the Hugging Face Hub, with a card"],
  ["report", "render a run's HTML report (every run writes one)"],
  ["gc", "delete store entries no kept run uses"],
  ["doctor", "check every shard and metadata file of the store"],
  ["cancel [RUN]", "scancel the Slurm jobs a run submitted"],
]

export const overview = (version: string, extensions: ReadonlyArray<readonly [string, string]>): string => {
  const rows = [...VERBS, ...extensions]
  const width = Math.max(...rows.map(([v]) => v.length)) + 2
  return [
    `dag ${version} — typed, cached dataflow pipelines for math LM corpora`,
    "",
    "Start here:",
    "  npx dag run proof-pile-2          run the sample pipeline end to end (again: all cached)",
    '  npx dag sql "select * from owm_filter limit 5"',
    "",
    "Commands:",
    ...rows.map(([v, d]) => `  dag ${v.padEnd(width)}${d}`),
    "",
    "`dag COMMAND --help` lists a command's options with examples. Exit codes: 0 ok, 1 a node failed, 2 bad input, 3 internal error, 130 interrupted.",
    "",
  ].join("\n")
}
