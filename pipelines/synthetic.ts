/**
 * A synthetic DAG for the orchestration benchmark: 10 layers × 100 nodes, each node reading two
 * nodes of the layer above (bench/orchestration compares it with the same DAG in Snakemake).
 */
import { type Node, Pipeline } from "mathdag"
import { combineNode, seedNode } from "mathdag/nodes/synthetic"

export const LAYERS = 10
export const WIDTH = 100

export default Pipeline.make(
  "synthetic",
  (p) => {
    let above: Array<Node.DatasetRef<{ readonly v: number }>> = []
    for (let i = 0; i < WIDTH; i++) above.push(p.add(seedNode(`l0/n${i}`, i), {}).out)
    for (let layer = 1; layer < LAYERS; layer++) {
      const next: typeof above = []
      for (let i = 0; i < WIDTH; i++) {
        next.push(p.add(combineNode(`l${layer}/n${i}`), { a: above[i]!, b: above[(i + 1) % WIDTH]! }).out)
      }
      above = next
    }
    return Object.fromEntries(above.map((r, i) => [`n${i}`, r]))
  },
  { description: "10 × 100 tiny nodes, each reading two parents (orchestration benchmark).", hidden: true }
)
