/** `dag` and `dag --help`: every verb in one line, and where to start. */
interface Verb {
  readonly usage: string
  readonly summary: string
  /** shown under EXAMPLES in `dag VERB --help` */
  readonly examples: ReadonlyArray<string>
}

const VERBS: ReadonlyArray<Verb> = [
  { usage: "init [DIR]", summary: "create a project that runs at once (dag.config.ts, pipelines/, nodes/, schemas/)", examples: ["dag init my-corpus && cd my-corpus && npx dag run example"] },
  {
    usage: "run PIPELINE",
    summary: "run a pipeline; only what changed recomputes, down to the shard",
    examples: [
      "dag run proof-pile-2",
      "dag run proof-pile-2 --dry-run",
      "dag run proof-pile-2 --select dedup/minhash --param dedup/minhash.threshold=0.8",
      "dag run proof-pile-2 --profile torch --memory 8GB",
    ],
  },
  { usage: "status", summary: "a run from its journal: nodes, shards, rows, drops, errors", examples: ["dag status", "dag status --run latest~1 --json"] },
  { usage: "runs", summary: "list runs, newest first", examples: ["dag runs", "dag runs --pipeline proof-pile-2 --html runs.html"] },
  {
    usage: "why NODE",
    summary: "is NODE up to date, and if not, what changed (code, params, data, dependencies)",
    examples: ["dag why dedup/minhash", "dag why dedup/minhash --param dedup/minhash.threshold=0.8", "dag why owm/extract --shard 0"],
  },
  { usage: "graph [PIPELINE]", summary: "the DAG as text or Mermaid", examples: ["dag graph proof-pile-2", "dag graph proof-pile-2 --format mermaid > dag.mmd"] },
  { usage: "ls", summary: "the datasets of a run and their `dag sql` view names", examples: ["dag ls", "dag ls --pipeline proof-pile-2 --json"] },
  {
    usage: 'sql ["QUERY"]',
    summary: "DuckDB SQL over a run's datasets (read-only; no query: a prompt)",
    examples: ['dag sql "select url, length(text) from owm_filter limit 5"', 'dag sql "select * from tokens_pack__sequences" --format csv > windows.csv', "dag sql"],
  },
  {
    usage: "export NODE --out DIR",
    summary: "a node's outputs as Parquet, Arrow, JSON Lines (or an extension's format)",
    examples: ["dag export owm/filter --out exports/owm --format jsonl", "dag export tokens/pack --out neox --format neox"],
  },
  {
    usage: "publish [CONFIG…] --to hf://…",
    summary: "a run's datasets (or a model) to the Hugging Face Hub, with a card",
    examples: ["dag publish --dry-run --out /tmp/card", "HF_TOKEN=hf_… dag publish open-web-math arxiv --to hf://datasets/me/proof-pile-2-sample"],
  },
  { usage: "report", summary: "render a run's HTML report (every run writes one)", examples: ["dag report --open", "dag report --diff latest~1 --diff latest"] },
  { usage: "gc", summary: "delete store entries no kept run uses", examples: ["dag gc --keep 3 --dry-run", "dag gc --keep 3"] },
  { usage: "doctor", summary: "check every shard and metadata file of the store", examples: ["dag doctor", "dag doctor --json"] },
  { usage: "cancel [RUN]", summary: "scancel the Slurm jobs a run submitted", examples: ["dag cancel", "dag cancel 20261205-0312"] },
]

/** Examples of verbs that extensions add (see Extension.commandHelp). */
const extensionExamples = new Map<string, ReadonlyArray<string>>()
export const addExamples = (verb: string, examples: ReadonlyArray<string>): void => void extensionExamples.set(verb, examples)

/** The examples `dag VERB --help` shows (none for a verb without any). */
export const examplesOf = (verb: string): ReadonlyArray<string> => VERBS.find((v) => v.usage.split(" ")[0] === verb)?.examples ?? extensionExamples.get(verb) ?? []

export const overview = (version: string, extensions: ReadonlyArray<readonly [string, string]>): string => {
  const rows = [...VERBS.map((v) => [v.usage, v.summary] as const), ...extensions]
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
