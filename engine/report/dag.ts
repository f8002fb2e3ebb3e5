/**
 * The pipeline as a picture, laid out by dagre when the report is written (the page stays one
 * self-contained file), each node coloured by what happened to it in the run.
 */
import { createRequire } from "node:module"
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

type Dagre = typeof import("@dagrejs/dagre")
// loaded when a report is drawn (dagre is plain JavaScript; the CLI's other commands never parse it)
const loadDagre = (): Dagre => createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)("@dagrejs/dagre") as Dagre

/** The anchor of a node's section in the report (the DAG's boxes link to it). */
export const anchorOf = (node: string) => `node-${node.replace(/[^a-zA-Z0-9]+/g, "-")}`

const FONT = 12
/** A width that holds the name in the system sans font at FONT px (about 0.6 em per character, bold). */
const boxWidth = (name: string) => Math.max(110, Math.ceil(name.length * FONT * 0.62) + 20)
const BOX_H = 38

/**
 * Laid out top to bottom by dagre (layered, fewer crossings), each box as wide as its full name,
 * linking to the node's section. Returns the SVG at its natural size: the page scales nothing.
 */
export const dagSvg = (nodes: ReadonlyArray<DagNode>): string => {
  const dagre = loadDagre()
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: "TB", nodesep: 14, ranksep: 30, marginx: 8, marginy: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  const names = new Set(nodes.map((n) => n.name))
  for (const n of nodes) g.setNode(n.name, { width: boxWidth(n.name), height: BOX_H })
  for (const n of nodes) for (const i of n.inputs) if (names.has(i)) g.setEdge(i, n.name)
  dagre.layout(g)
  const graph = g.graph() as { width?: number; height?: number }
  const width = Math.ceil(graph.width ?? 0)
  const height = Math.ceil(graph.height ?? 0)
  let edges = ""
  for (const e of g.edges()) {
    const pts = (g.edge(e) as { points: Array<{ x: number; y: number }> }).points
    if (!pts.length) continue
    const d =
      `M${pts[0]!.x} ${pts[0]!.y} ` +
      pts
        .slice(1)
        .map((p) => `L${p.x} ${p.y}`)
        .join(" ")
    edges += `<path d="${d}" fill="none" stroke="#9aa5b1" stroke-width="1.3" marker-end="url(#arrow)"/>`
  }
  let boxes = ""
  for (const n of nodes) {
    const b = g.node(n.name) as { x: number; y: number; width: number; height: number }
    const x = b.x - b.width / 2
    const y = b.y - b.height / 2
    const c = colorOf(n.status)
    boxes += `<a href="#${anchorOf(n.name)}" class="dag-node"><title>${html(`${n.name} (${n.kind}): ${c.label}`)}</title><rect class="mark" x="${x}" y="${y}" width="${b.width}" height="${b.height}" rx="6" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.6"/>`
    boxes += `<text x="${b.x}" y="${y + 16}" text-anchor="middle" font-weight="600" fill="#1f2933">${html(n.name)}</text>`
    boxes += `<text x="${b.x}" y="${y + 30}" text-anchor="middle" fill="#52606d" font-size="11">${html(`${n.kind} · ${c.label}`)}</text></a>`
  }
  return `<svg class="dag" role="img" aria-label="pipeline graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="${FONT}"><defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0 L8 4 L0 8 z" fill="#9aa5b1"/></marker></defs>${edges}${boxes}</svg>`
}
