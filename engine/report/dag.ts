/**
 * The pipeline as a picture: nodes in columns by depth (longest path from a source), edges as
 * curves, each node coloured by what happened to it in the run.
 */
import { html } from "./escape.js"

export interface DagNode {
  readonly name: string
  readonly kind: string
  readonly status: string
  readonly inputs: ReadonlyArray<string>
}

export const STATUS_COLORS: Readonly<Record<string, { fill: string; stroke: string; label: string }>> = {
  cached: { fill: "#eef2f7", stroke: "#9aa5b1", label: "cached" },
  computed: { fill: "#e3f4e8", stroke: "#3f8f5f", label: "computed" },
  partial: { fill: "#fff4de", stroke: "#d9822b", label: "partly computed" },
  failed: { fill: "#fbe4e6", stroke: "#a8444f", label: "failed" },
  skipped: { fill: "#f5f5f5", stroke: "#c0c4c8", label: "skipped" },
  pending: { fill: "#ffffff", stroke: "#c0c4c8", label: "not run" },
  running: { fill: "#ffffff", stroke: "#7a5ea8", label: "running" },
}

const colorOf = (status: string) => STATUS_COLORS[status] ?? STATUS_COLORS.pending!

export const dagSvg = (nodes: ReadonlyArray<DagNode>): string => {
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const depth = new Map<string, number>()
  const depthOf = (name: string, seen = new Set<string>()): number => {
    const known = depth.get(name)
    if (known !== undefined) return known
    if (seen.has(name)) return 0
    seen.add(name)
    const n = byName.get(name)
    const d = n && n.inputs.length ? 1 + Math.max(...n.inputs.filter((i) => byName.has(i)).map((i) => depthOf(i, seen)), -1) : 0
    depth.set(name, d)
    return d
  }
  const columns: Array<Array<DagNode>> = []
  for (const n of nodes) (columns[depthOf(n.name)] ??= []).push(n)
  const boxW = 150
  const boxH = 40
  const colGap = 56
  const rowGap = 14
  const pad = 12
  const height = pad * 2 + Math.max(...columns.map((c) => c?.length ?? 0)) * (boxH + rowGap) - rowGap
  const width = pad * 2 + columns.length * (boxW + colGap) - colGap
  const pos = new Map<string, { x: number; y: number }>()
  columns.forEach((col, c) => {
    const colH = col.length * (boxH + rowGap) - rowGap
    col.forEach((n, r) => pos.set(n.name, { x: pad + c * (boxW + colGap), y: pad + (height - pad * 2 - colH) / 2 + r * (boxH + rowGap) }))
  })
  let edges = ""
  let boxes = ""
  for (const n of nodes) {
    const b = pos.get(n.name)!
    for (const i of n.inputs) {
      const a = pos.get(i)
      if (!a) continue
      const x1 = a.x + boxW
      const y1 = a.y + boxH / 2
      const x2 = b.x
      const y2 = b.y + boxH / 2
      const mid = (x1 + x2) / 2
      edges += `<path d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2 - 4} ${y2}" fill="none" stroke="#9aa5b1" stroke-width="1.4" marker-end="url(#arrow)"/>`
    }
    const c = colorOf(n.status)
    const name = n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name
    boxes += `<g class="dag-node"><title>${html(`${n.name} (${n.kind}): ${c.label}`)}</title><rect class="mark" x="${b.x}" y="${b.y}" width="${boxW}" height="${boxH}" rx="6" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.6"/>`
    boxes += `<text x="${b.x + boxW / 2}" y="${b.y + 17}" text-anchor="middle" font-weight="600" fill="#1f2933">${html(name)}</text>`
    boxes += `<text x="${b.x + boxW / 2}" y="${b.y + 31}" text-anchor="middle" fill="#52606d" font-size="10">${html(`${n.kind} · ${c.label}`)}</text></g>`
  }
  return `<svg class="dag" role="img" aria-label="pipeline graph" viewBox="0 0 ${width} ${height}" width="${Math.min(width, 1000)}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11"><defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L8 4 L0 8 z" fill="#9aa5b1"/></marker></defs>${edges}${boxes}</svg>`
}
