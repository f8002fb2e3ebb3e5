/**
 * Files a node reads besides its inputs (a model, a word list, a test set), declared by the node's
 * `externals(params)`. Their content fingerprints enter the node's cache key (as `file:PATH` runtime
 * facts), so editing such a file recomputes the node, and `dag why` reports it as DATA.
 */
import * as fs from "node:fs"
import { fingerprintFile } from "./fingerprints.js"
import type { AnyNode } from "./node.js"
import { resolveInput, shownPath } from "./paths.js"

export const externalFacts = (node: AnyNode, params: unknown): Record<string, string> => {
  if (!node.externals) return {}
  const out: Record<string, string> = {}
  for (const p of node.externals(params)) {
    if (!p || p.startsWith("hf://")) continue
    const abs = resolveInput(p)
    out[`file:${shownPath(abs)}`] = fs.existsSync(abs) ? fingerprintFile(abs) : "missing"
  }
  return out
}
