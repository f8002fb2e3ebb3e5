/**
 * What would run, and why, without running anything: the engine of `dag run --dry-run` and
 * `dag why`. Walks the pipeline in order, computing each node's key from its upstream's
 * committed outputs; a node whose upstream is stale inherits that upstream's root causes.
 */
import { Effect } from "effect"
import type { NodeRunError } from "../errors.js"
import type { ResolvedParams } from "../params.js"
import type { Pipeline } from "../pipeline.js"
import { ancestorsOf, topoOrder } from "../pipeline.js"
import { staleCauses, keyOf, nodeKeyStruct, shardKeyStruct, type Cause, type KeyStruct } from "../plan.js"
import { externalFacts } from "../externals.js"
import type { DatasetManifest, NodeRecord, Store } from "../store/store.js"

export interface NodePlan {
  readonly node: string
  readonly kind: string
  readonly status: "cached" | "stale"
  readonly key?: string
  readonly struct?: KeyStruct
  readonly stored?: NodeRecord
  readonly causes: ReadonlyArray<Cause>
  /** shards whose per-shard key misses, when it can be known before upstream runs */
  readonly staleShards?: { readonly stale: number; readonly total: number }
}

export const planPipeline = (
  pipeline: Pipeline,
  params: ResolvedParams,
  store: Store,
  runtime: Readonly<Record<string, string>>,
  options: { readonly select?: ReadonlyArray<string>; readonly force?: ReadonlyArray<string> } = {}
): Effect.Effect<ReadonlyArray<NodePlan>, NodeRunError> =>
  Effect.gen(function* () {
    const selected = options.select?.length ? ancestorsOf(pipeline, options.select) : undefined
    const plans = new Map<string, NodePlan>()
    const outputsOf = new Map<string, Readonly<Record<string, string>>>()
    const out: Array<NodePlan> = []
    for (const pn of topoOrder(pipeline)) {
      const node = pn.node
      if (selected && !selected.has(node.name)) continue
      const stored = store.getRef(node.name)
      const encoded = params.encoded.get(node.name)
      const nodeRuntime = { ...runtime, ...externalFacts(node, params.values.get(node.name)) }
      const staleUpstream = Object.values(pn.inputs)
        .map((w) => plans.get(w.node))
        .filter((p): p is NodePlan => p !== undefined && p.status === "stale")
      let plan: NodePlan
      if (staleUpstream.length > 0) {
        const causes = staleUpstream.flatMap((up) =>
          up.causes.map((c) => ({ category: c.category === "NEW" ? ("DEPENDENCIES" as const) : c.category, detail: c.detail.includes("(upstream ") ? c.detail : `${c.detail} (upstream ${up.node})` }))
        )
        const total = stored?.shards.length
        plan = { node: node.name, kind: node.kind, status: "stale", causes: dedupe(causes), ...(stored ? { stored } : {}), ...(total !== undefined ? { staleShards: { stale: total, total } } : {}) }
      } else {
        let struct: KeyStruct
        let shardStructs: ReadonlyArray<KeyStruct> = []
        if (node.kind === "source") {
          const units = yield* node.units(params.values.get(node.name))
          struct = nodeKeyStruct(node, encoded, { units }, nodeRuntime)
          shardStructs = units.map((unit) => shardKeyStruct(node, encoded, { unit }, nodeRuntime))
        } else {
          const inputs = Object.fromEntries(Object.entries(pn.inputs).map(([name, w]) => [name, outputsOf.get(w.node)?.[w.output]]))
          struct = nodeKeyStruct(node, encoded, { inputs }, nodeRuntime)
          if (node.kind === "map") {
            const id = inputs.in
            const m = id ? (store.getArtifact(id) as DatasetManifest | undefined) : undefined
            shardStructs = (m?.shards ?? []).map((s) => shardKeyStruct(node, encoded, { inputShard: s.hash }, nodeRuntime))
          }
        }
        const key = keyOf(struct)
        const record = store.getNodeRecord(key)
        const present = record !== undefined && Object.values(record.outputs).every((id) => store.artifactPresent(id))
        const forced = options.force?.includes(node.name) ?? false
        if (present && !forced) {
          outputsOf.set(node.name, record.outputs)
          plan = { node: node.name, kind: node.kind, status: "cached", key, struct, causes: [], ...(stored ? { stored } : {}) }
        } else {
          const causes = staleCauses(stored?.struct, struct, forced)
          const stale = shardStructs.filter((s) => forced || !store.committedShard(keyOf(s))).length
          plan = {
            node: node.name,
            kind: node.kind,
            status: "stale",
            key,
            struct,
            causes,
            ...(stored ? { stored } : {}),
            ...(node.kind === "global" ? { staleShards: { stale: 1, total: 1 } } : { staleShards: { stale, total: shardStructs.length } }),
          }
        }
      }
      plans.set(node.name, plan)
      out.push(plan)
    }
    return out
  })

const dedupe = (causes: ReadonlyArray<Cause>): ReadonlyArray<Cause> => {
  const seen = new Set<string>()
  return causes.filter((c) => {
    const k = `${c.category}:${c.detail}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

export const describePlan = (p: NodePlan): string => {
  if (p.status === "cached") return `${p.node}: up to date (key ${p.key?.slice(0, 12)})`
  const shards = p.staleShards ? `; ${p.staleShards.stale}/${p.staleShards.total} shards stale` : ""
  return `${p.node}: STALE — ${p.causes.map((c) => `${c.category}: ${c.detail}`).join("; ")}${shards}`
}
