/**
 * Garbage collection. Live = everything reachable from the kept runs' journals, from refs/ (the
 * latest result of every node, which the next run and `dag why` start from) and from each
 * pipeline's index (its last run, whatever other pipelines did since): node records,
 * their shard records, artifacts and objects. Everything else is deleted, and so are the report's
 * cached query results that read a deleted artifact (derived-cache.ts).
 */
import * as fs from "node:fs"
import type { RunRecord } from "../journal.js"
import { isSidecar } from "./checksum.js"
import { fileStem, filesBelow } from "./fsx.js"
import type { NodeRecord, Store } from "./store.js"
import { sweepDerived } from "./derived-cache.js"

export interface GcResult {
  readonly removedObjects: number
  readonly removedArtifacts: number
  readonly removedKeys: number
  /** results derived from deleted artifacts (the report's query results) */
  readonly removedDerived: number
  readonly freedBytes: number
}

export const collectGarbage = (store: Store, keptRuns: ReadonlyArray<RunRecord>, dryRun = false): GcResult => {
  const liveKeys = new Set<string>()
  const liveArtifacts = new Set<string>()
  const liveObjects = new Set<string>()
  const keepNode = (rec: NodeRecord | undefined) => {
    if (!rec) return
    liveKeys.add(rec.key)
    for (const s of rec.shards) liveKeys.add(s.key)
    for (const id of Object.values(rec.outputs)) {
      liveArtifacts.add(id)
      const m = store.getArtifact(id)
      if (!m) continue
      if (m.kind === "file") liveObjects.add(m.hash)
      else for (const s of m.shards) liveObjects.add(s.hash)
    }
  }
  for (const run of keptRuns) for (const n of run.nodes) if (n.key) keepNode(store.getNodeRecord(n.key))
  for (const rec of store.allRefs()) keepNode(rec)
  // every pipeline's last run, by its index (refs keep only the latest of nodes that share a name)
  for (const pipeline of store.indexedPipelines()) for (const rec of Object.values(store.readIndex(pipeline))) keepNode(rec)
  let removedObjects = 0
  let removedArtifacts = 0
  let removedKeys = 0
  let freedBytes = 0
  const remove = (file: string) => {
    freedBytes += fs.statSync(file).size
    if (!dryRun) fs.rmSync(file, { force: true })
  }
  // a fast-digest sidecar lives and dies with its object
  for (const f of filesBelow(store.objects)) if (!liveObjects.has(fileStem(f))) (remove(f), isSidecar(f) || removedObjects++)
  for (const f of filesBelow(store.artifactsDir)) if (!liveArtifacts.has(fileStem(f))) (remove(f), removedArtifacts++)
  for (const f of filesBelow(store.keysDir)) if (!liveKeys.has(fileStem(f))) (remove(f), removedKeys++)
  const removedDerived = sweepDerived(store, liveArtifacts, remove)
  return { removedObjects, removedArtifacts, removedKeys, removedDerived, freedBytes }
}
