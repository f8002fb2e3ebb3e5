/**
 * What a pipeline publishes, declared beside its nodes: one Hub configuration per subset, the
 * datasets each is made of and how their rows fall into splits, plus the facts a dataset card
 * needs that no run can know (licence, language, what the corpus is for). `dag publish` reads the
 * rest (rows, drops, params, overlap, tokens, versions) from the run it publishes.
 */
import type { Wire } from "../pipeline.js"

/**
 * Where a row's split comes from: one split for the whole dataset, a column of the row, or the
 * `split` column of another dataset joined on `id` (the tokenizer's own assignment, say).
 */
export type SplitRule = { readonly split: string } | { readonly column: string } | { readonly splitsOf: Wire }

export interface PublishPart {
  readonly data: Wire
  readonly split: SplitRule
}

export interface PublishConfig {
  /** the Hub configuration name (`load_dataset(repo, name)`) */
  readonly name: string
  readonly description: string
  readonly parts: ReadonlyArray<PublishPart>
  /** datasets with `split` and `n_tokens` columns: token counts per split in the card */
  readonly tokens?: ReadonlyArray<Wire>
  /** a test-set overlap check's hits (`test_set`, `test_id`, `id`): the card's contamination table */
  readonly overlap?: Wire
}

/** Dataset-wide facts for the card's YAML header and its first paragraph. */
export interface CardFacts {
  readonly prettyName: string
  readonly summary: string
  /** a Hub licence id ("other" with `licenseDetails` when it is a mix) */
  readonly license: string
  readonly licenseDetails?: string
  readonly language: ReadonlyArray<string>
  readonly taskCategories: ReadonlyArray<string>
  readonly citation?: string
}

export interface PublishSpec {
  readonly card: CardFacts
  readonly configs: ReadonlyArray<PublishConfig>
}

/** How a pipeline file declares a configuration: with the refs its builder returned. */
export interface PublishConfigInput {
  readonly name: string
  readonly description: string
  /** one dataset (split by `split`), or the datasets of each split by name */
  readonly data: Wire | Readonly<Record<string, Wire | ReadonlyArray<Wire>>>
  readonly split?: "column" | Wire | string
  readonly tokens?: Wire | ReadonlyArray<Wire>
  readonly overlap?: Wire
}

const isWire = (x: unknown): x is Wire => typeof x === "object" && x !== null && typeof (x as Wire).node === "string" && typeof (x as Wire).output === "string"

/** A configuration name: a path segment of the repository (`data/<name>/…`) and a `load_dataset` name. */
const CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export const publishConfig = (c: PublishConfigInput): PublishConfig => {
  if (!CONFIG_NAME.test(c.name) || c.name.includes(".."))
    throw new Error(`publish configuration name ${JSON.stringify(c.name)}: use letters, digits, "-", "_" and "." (it names a folder of the repository)`)
  const parts: Array<PublishPart> = isWire(c.data)
    ? [
        {
          data: ref(c.data),
          split: c.split === undefined ? { split: "train" } : c.split === "column" ? { column: "split" } : typeof c.split === "string" ? { split: c.split } : { splitsOf: ref(c.split) },
        },
      ]
    : Object.entries(c.data).flatMap(([split, data]) => (isWire(data) ? [data] : (data as ReadonlyArray<Wire>)).map((d) => ({ data: ref(d), split: { split } })))
  const tokens = c.tokens === undefined ? undefined : isWire(c.tokens) ? [ref(c.tokens)] : (c.tokens as ReadonlyArray<Wire>).map(ref)
  return { name: c.name, description: c.description, parts, ...(tokens ? { tokens } : {}), ...(c.overlap ? { overlap: ref(c.overlap) } : {}) }
}

/** A plain wire (a builder's ref carries a phantom row type and a tag). */
const ref = (w: Wire): Wire => ({ node: w.node, output: w.output })

/** Every dataset a configuration reads. */
export const wiresOf = (c: PublishConfig): ReadonlyArray<Wire> => [
  ...c.parts.flatMap((p) => ("splitsOf" in p.split ? [p.data, p.split.splitsOf] : [p.data])),
  ...(c.tokens ?? []),
  ...(c.overlap ? [c.overlap] : []),
]
