/**
 * Report cells a node contributes: small plain values, like nodes. Queries run in DuckDB over the
 * run's views, where `self` is the node's own (first) dataset output; every rendered cell shows its
 * SQL so a reader can rerun it with `dag sql` (replacing `self` by the node's view name).
 */

export interface ChartAxes {
  /** column for the x axis (categories for bars, numbers for lines) */
  readonly x: string
  /** column for the y axis (numbers) */
  readonly y: string
  /** optional column whose values split lines into series */
  readonly series?: string
  readonly xLabel?: string
  readonly yLabel?: string
}

export type Cell =
  | { readonly _tag: "Markdown"; readonly text: string }
  | { readonly _tag: "Table"; readonly title: string; readonly sql: string; readonly limit: number; readonly anchor?: ReadonlyArray<string>; readonly linkTo?: TableLink }
  | { readonly _tag: "Bar"; readonly title: string; readonly sql: string; readonly axes: ChartAxes }
  | { readonly _tag: "Line"; readonly title: string; readonly sql: string; readonly axes: ChartAxes }
  | { readonly _tag: "Histogram"; readonly title: string; readonly sql: string; readonly bins: number; readonly xLabel?: string }
  | { readonly _tag: "Samples"; readonly title: string; readonly sql: string; readonly limit: number }

/** Prose (a small Markdown subset: paragraphs, `code`, **bold**, *italic*, lists). */
export const markdown = (text: string): Cell => ({ _tag: "Markdown", text })

/**
 * Where a table's rows link to: the rows of the table cell titled `title` (in the node named by
 * the row's `nodeColumn`, or the same node) whose `anchor` columns equal this row's `by` columns.
 */
export interface TableLink {
  readonly title: string
  readonly by: ReadonlyArray<string>
  readonly nodeColumn?: string
}

/**
 * A table of the query's rows (at most `limit`). `anchor` names columns whose values make the first
 * row of each group a link target; `linkTo` turns each row's first cell into a link to such a target.
 */
export const table = (title: string, sql: string, options: { readonly limit?: number; readonly anchor?: ReadonlyArray<string>; readonly linkTo?: TableLink } = {}): Cell => ({
  _tag: "Table",
  title,
  sql,
  limit: options.limit ?? 20,
  ...(options.anchor ? { anchor: options.anchor } : {}),
  ...(options.linkTo ? { linkTo: options.linkTo } : {}),
})

/** The HTML id of the rows of table `title` in `scope` (a node name) whose anchor columns hold `values`. */
export const rowAnchor = (scope: string, title: string, values: ReadonlyArray<unknown>): string =>
  `row-${[scope, title, ...values.map(String)]
    .join(" ")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")}`

/** Horizontal bars: one per row, label from `x`, length from `y`. */
export const bar = (title: string, sql: string, axes: ChartAxes): Cell => ({ _tag: "Bar", title, sql, axes })

/** A line chart of numeric `x` against `y`, one line per `series` value. */
export const line = (title: string, sql: string, axes: ChartAxes): Cell => ({ _tag: "Line", title, sql, axes })

/** A histogram of the first column of the query (numbers), in `bins` equal-width bins. */
export const histogram = (title: string, sql: string, options: { readonly bins?: number; readonly xLabel?: string } = {}): Cell => ({
  _tag: "Histogram",
  title,
  sql,
  bins: options.bins ?? 20,
  ...(options.xLabel ? { xLabel: options.xLabel } : {}),
})

/** A few rows of the node's output, long strings shortened. */
export const samples = (title = "Sample rows", options: { readonly limit?: number; readonly where?: string } = {}): Cell => ({
  _tag: "Samples",
  title,
  sql: `SELECT * FROM self${options.where ? ` WHERE ${options.where}` : ""} LIMIT ${options.limit ?? 3}`,
  limit: options.limit ?? 3,
})
