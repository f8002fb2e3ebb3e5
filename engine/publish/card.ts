/**
 * The dataset card (README.md): the YAML header the Hub reads (configurations and their files,
 * licence, language, task, size) and a body written from the run that made the data: each
 * subset's stages with rows in and out and why rows were dropped, the params that differ from
 * the defaults, the test-set overlap, token counts, versions and the command to make it again.
 * Pure: a model in, text out.
 */
import type { CardFacts } from "./spec.js"
import type { SplitStats } from "./layout.js"

export interface StageRow {
  readonly node: string
  readonly kind: string
  readonly version: number
  readonly status: string
  readonly rowsIn: number
  /** rows per input (a source has none: its rowsIn counts what it read) */
  readonly inputs: ReadonlyArray<{ readonly name: string; readonly rows: number }>
  /** rows per output: one count per dataset the node writes, never a sum across them */
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly rows: number }>
  readonly dropped: Readonly<Record<string, number>>
}

export interface OverlapRow {
  readonly testSet: string
  readonly examples: number
  readonly documents: number
  /** a few of the test examples hit (test-set ids) */
  readonly sample: ReadonlyArray<string>
}

export interface ConfigModel {
  readonly name: string
  readonly description: string
  readonly splits: ReadonlyArray<SplitStats>
  readonly stages: ReadonlyArray<StageRow>
  readonly overlap?: { readonly node: string; readonly rows: ReadonlyArray<OverlapRow>; readonly removed: number; readonly removedBy?: string }
  readonly tokens: ReadonlyArray<{ readonly split: string; readonly documents: number; readonly tokens: number }>
  readonly tokenNodes: ReadonlyArray<string>
}

export interface ParamChange {
  readonly node: string
  readonly param: string
  readonly value: unknown
  readonly default: unknown
}

export interface CardModel {
  readonly facts: CardFacts
  readonly repo: string
  readonly pipeline: string
  readonly run: { readonly id: string; readonly startedAt: string; readonly profile: string; readonly executor: string; readonly host: string }
  readonly configs: ReadonlyArray<ConfigModel>
  readonly params: ReadonlyArray<ParamChange>
  readonly versions: {
    readonly mathdag: string
    readonly duckdb: string
    readonly nodes: ReadonlyArray<{ readonly node: string; readonly version: number; readonly key: string }>
  }
  /** the command that makes the same data again */
  readonly reproduce: string
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const q = (s: string): string => JSON.stringify(s)

export const sizeCategory = (rows: number): string => {
  const bands: ReadonlyArray<[number, string]> = [
    [1e3, "n<1K"],
    [1e4, "1K<n<10K"],
    [1e5, "10K<n<100K"],
    [1e6, "100K<n<1M"],
    [1e7, "1M<n<10M"],
    [1e8, "10M<n<100M"],
    [1e9, "100M<n<1B"],
    [1e10, "1B<n<10B"],
  ]
  return bands.find(([limit]) => rows < limit)?.[1] ?? "n>10B"
}

const n = (x: number): string => x.toLocaleString("en-US")
const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ")
/** A Markdown table; columns named in `numeric` are right-aligned. */
const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, numeric: ReadonlyArray<string> = []): string =>
  [`| ${head.join(" | ")} |`, `| ${head.map((h) => (numeric.includes(h) ? "---:" : "---")).join(" | ")} |`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n")
const bytes = (b: number): string => (b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`)
const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v))

export const yamlHeader = (m: CardModel): string => {
  const total = m.configs.reduce((a, c) => a + c.splits.reduce((b, s) => b + s.rows, 0), 0)
  const lines = ["---", `pretty_name: ${q(m.facts.prettyName)}`, `license: ${q(m.facts.license)}`]
  if (m.facts.license === "other" && m.facts.licenseDetails) lines.push(`license_name: ${q("mixed")}`, `license_details: ${q(m.facts.licenseDetails)}`)
  lines.push("language:", ...m.facts.language.map((l) => `- ${q(l)}`))
  lines.push("task_categories:", ...m.facts.taskCategories.map((t) => `- ${q(t)}`))
  lines.push("size_categories:", `- ${q(sizeCategory(total))}`)
  lines.push("tags:", `- ${q("mathdag")}`, `- ${q("math")}`)
  lines.push("configs:")
  for (const c of m.configs) {
    lines.push(`- config_name: ${q(c.name)}`, "  data_files:")
    for (const s of c.splits) {
      lines.push(`  - split: ${q(s.split)}`, "    path:", ...s.files.map((f) => `    - ${q(f)}`))
    }
  }
  lines.push("---")
  return lines.join("\n")
}

const configSection = (c: ConfigModel): string => {
  const out: Array<string> = [`### ${c.name}`, "", c.description, ""]
  out.push(
    table(
      ["split", "rows", "files", "bytes"],
      c.splits.map((s) => [s.split, n(s.rows), String(s.files.length), bytes(s.bytes)]),
      ["rows", "files", "bytes"]
    ),
    ""
  )
  if (c.tokens.length > 0) {
    out.push(
      `Llama-2 tokens (counted by ${c.tokenNodes.map((t) => `\`${t}\``).join(", ")}):`,
      "",
      table(
        ["split", "documents", "tokens"],
        c.tokens.map((t) => [t.split, n(t.documents), n(t.tokens)]),
        ["documents", "tokens"]
      ),
      ""
    )
  }
  out.push(
    "How it was made (every stage this subset passes through, in order; rows per input and per output):",
    "",
    table(
      ["stage", "rows in", "rows out", "dropped (reason: rows)", "version"],
      c.stages.map((s) => [
        `\`${s.node}\``,
        s.inputs.length <= 1 ? n(s.inputs[0]?.rows ?? s.rowsIn) : s.inputs.map((i) => `${i.name} ${n(i.rows)}`).join(", "),
        s.outputs.length === 1 ? n(s.outputs[0]!.rows) : s.outputs.map((o) => `${o.name} ${n(o.rows)}`).join(", "),
        Object.entries(s.dropped)
          .sort((a, b) => b[1] - a[1])
          .map(([r, k]) => `${r}: ${n(k)}`)
          .join(", ") || "—",
        String(s.version),
      ]),
      ["rows in", "rows out", "version"]
    ),
    ""
  )
  if (c.overlap) {
    out.push(`Test-set overlap (\`${c.overlap.node}\`): documents sharing long n-grams with a benchmark's problems or solutions.`, "")
    if (c.overlap.rows.length === 0) out.push("No overlap found.", "")
    else
      out.push(
        table(
          ["test set", "examples hit", "documents", "first test ids hit"],
          c.overlap.rows.map((r) => [r.testSet, n(r.examples), n(r.documents), r.sample.join(", ")]),
          ["examples hit", "documents"]
        ),
        ""
      )
    out.push(c.overlap.removedBy ? `Decontamination (\`${c.overlap.removedBy}\`) removed ${n(c.overlap.removed)} document(s) from this subset.` : "These documents were not removed.", "")
  }
  return out.join("\n")
}

export const cardMarkdown = (m: CardModel): string => {
  const total = m.configs.reduce((a, c) => a + c.splits.reduce((b, s) => b + s.rows, 0), 0)
  const body: Array<string> = [
    yamlHeader(m),
    "",
    `# ${m.facts.prettyName}`,
    "",
    m.facts.summary,
    "",
    `${n(total)} rows in ${m.configs.length} configuration(s), made by run \`${m.run.id}\` of the mathdag pipeline \`${m.pipeline}\` (profile \`${m.run.profile}\`, executor \`${m.run.executor}\`, started ${m.run.startedAt}).`,
    "",
    "```python",
    "from datasets import load_dataset",
    `ds = load_dataset(${q(m.repo)}, ${q(m.configs[0]?.name ?? "default")})`,
    "```",
    "",
    "## Subsets",
    "",
    ...m.configs.map(configSection),
    "## Parameters that differ from the defaults",
    "",
    m.params.length === 0
      ? "None: every node ran with its defaults."
      : table(
          ["node", "param", "value", "default"],
          m.params.map((p) => [`\`${p.node}\``, p.param, show(p.value), show(p.default)])
        ),
    "",
    "## Versions",
    "",
    `mathdag ${m.versions.mathdag}, DuckDB ${m.versions.duckdb}. Every node's version and cache key (the key hashes its code, params and inputs):`,
    "",
    table(
      ["node", "version", "key"],
      m.versions.nodes.map((v) => [`\`${v.node}\``, String(v.version), `\`${v.key.slice(0, 16)}\``]),
      ["version"]
    ),
    "",
    "`mathdag.json` beside this card holds the full keys and artifact ids of everything published.",
    "",
    "## Reproduce",
    "",
    "```sh",
    m.reproduce,
    "```",
    "",
    ...(m.facts.licenseDetails ? ["## Licence", "", m.facts.licenseDetails, ""] : []),
    ...(m.facts.citation ? ["## Citation", "", "```bibtex", m.facts.citation, "```", ""] : []),
  ]
  return body.join("\n")
}
