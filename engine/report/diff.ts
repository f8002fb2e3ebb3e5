/** `dag report --diff A --diff B`: what changed between two runs — params, cache keys, rows, drops. */
import type { RunRecord } from "../journal.js"
import { canonicalJson } from "../hash.js"

export const diffRuns = (a: RunRecord, b: RunRecord): string => {
  const lines = [`runs ${a.run} (${a.pipeline}, ${a.status}) → ${b.run} (${b.pipeline}, ${b.status})`]
  if (a.pipeline !== b.pipeline) lines.push(`note: different pipelines`)
  const before = new Map(a.nodes.map((n) => [n.node, n]))
  const names = [...new Set([...a.nodes.map((n) => n.node), ...b.nodes.map((n) => n.node)])]
  let same = 0
  for (const name of names) {
    const x = before.get(name)
    const y = b.nodes.find((n) => n.node === name)
    if (!x || !y) {
      lines.push(`  ${name}: only in ${x ? a.run : b.run}`)
      continue
    }
    const changes: Array<string> = []
    if (canonicalJson(x.params) !== canonicalJson(y.params)) changes.push(`params ${canonicalJson(x.params)} → ${canonicalJson(y.params)}`)
    if (x.key !== y.key) changes.push(`key ${x.key?.slice(0, 12) ?? "—"} → ${y.key?.slice(0, 12) ?? "—"}`)
    if (x.rows.out !== y.rows.out || x.rows.in !== y.rows.in) changes.push(`rows ${x.rows.in}→${x.rows.out} became ${y.rows.in}→${y.rows.out}`)
    const reasons = new Set([...Object.keys(x.dropped), ...Object.keys(y.dropped)])
    for (const r of reasons) if ((x.dropped[r] ?? 0) !== (y.dropped[r] ?? 0)) changes.push(`dropped ${r} ${x.dropped[r] ?? 0} → ${y.dropped[r] ?? 0}`)
    if (x.status !== y.status) changes.push(`status ${x.status} → ${y.status}`)
    if (changes.length === 0) same++
    else lines.push(`  ${name}: ${changes.join("; ")}`)
  }
  lines.push(`${same} node(s) unchanged`)
  return lines.join("\n")
}
