/** The same report as Markdown (report.md beside report.html), for terminals, diffs and chat. */
import { formatMetric } from "../runs.js"
import { clip, md } from "./escape.js"
import type { RenderedCell, ReportModel, Rows } from "./build.js"

const table = (data: Rows, max = 10): string => {
  if (data.rows.length === 0) return "_no rows_\n"
  const head = `| ${data.columns.map(md).join(" | ")} |\n| ${data.columns.map(() => "---").join(" | ")} |\n`
  return (
    head +
    data.rows
      .slice(0, max)
      .map((r) => `| ${data.columns.map((c) => md(clip(r[c], 120))).join(" | ")} |`)
      .join("\n") +
    "\n"
  )
}

const cell = (c: RenderedCell): Array<string> => {
  if (c.kind === "Markdown") return [`${c.text ?? ""}\n`]
  const out = [`### ${c.title}\n`]
  if (c.data) out.push(table(c.data))
  if (c.error) out.push(`_query failed: ${md(c.error)}_\n`)
  if (c.sql) out.push("```sql\n" + c.sql + "\n```\n")
  return out
}

export const renderMarkdown = (m: ReportModel): string => {
  const r = m.run
  const out: Array<string> = []
  out.push(`# ${r.pipeline} — run ${r.run} (${r.status})\n`)
  out.push(`Started ${r.startedAt} · ${r.ms ?? "?"} ms · profile ${r.profile} · host ${r.host}\n`)
  if (m.pipelineDescription) out.push(`${m.pipelineDescription}\n`)
  if (m.metrics.length) out.push(`Key figures: ${m.metrics.map((x) => `${md(x.name)} **${md(formatMetric(x.value))}**`).join(" · ")}\n`)
  for (const n of m.notes) out.push(`> ${n}\n`)
  out.push(`| node | status | shards computed/total | rows in | rows out | dropped | time |\n| --- | --- | --- | --- | --- | --- | --- |`)
  for (const n of r.nodes) {
    out.push(
      `| ${md(n.node)} | ${n.status} | ${n.shards.computed}/${n.shards.total} | ${n.rows.in} | ${n.rows.out} | ${md(
        Object.entries(n.dropped)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")
      )} | ${n.ms} ms |`
    )
  }
  out.push("")
  for (const c of m.pipelineCells) out.push(...cell(c))
  for (const s of m.sections) {
    out.push(`## ${s.log.node} (${s.log.kind}, ${s.log.status})\n`)
    if (s.description) out.push(`${s.description}\n`)
    const changed = s.params.filter((p) => p.changed)
    if (changed.length) out.push(`Params changed from defaults: ${changed.map((p) => `\`${md(p.name)}\` = ${md(clip(p.value, 60))} (default ${md(clip(p.default, 60))})`).join(", ")}\n`)
    if (s.log.causes.length) out.push(s.log.causes.map((c) => `- **${c.category}** ${md(c.detail)}`).join("\n") + "\n")
    // multi-line errors (a cluster task's log tail) stay inside the quote, line by line
    for (const e of s.log.errors)
      out.push(
        `${e
          .split("\n")
          .map((l, i) => `> ${i === 0 ? "error: " : ""}${md(l)}`)
          .join("  \n")}\n`
      )
    if (s.log.messages?.length) out.push(`Log:\n\n${s.log.messages.map((l) => `> ${md(l)}`).join("  \n")}\n`)
    if (s.samples) out.push(`Sample rows:\n\n${table(s.samples, 3)}`)
    for (const c of s.cells) out.push(...cell(c))
  }
  return out.join("\n")
}
