/**
 * The whole run's ETA: the longest chain of nodes still to finish, each costing what it cost the
 * last time it was computed in this store (its node record's time), a running node what its own
 * pace says is left. Nodes run in parallel along separate branches, so the chain, not the sum, is
 * the estimate; it ignores contention for cores, so on a busy machine it is optimistic. Nodes that
 * were never computed have no history: the estimate says how many it leaves out.
 */

export interface EtaNode {
  readonly name: string
  /** upstream nodes that are computed in this run (cached ones are already done) */
  readonly deps: ReadonlyArray<string>
  /** how long the node took when it was last computed; undefined: never computed here */
  readonly expectedMs: number | undefined
}

export interface RunEta {
  readonly ms: number
  /** nodes still to finish whose duration is unknown (not counted in `ms`) */
  readonly unknown: number
}

/**
 * Milliseconds until the last node finishes. `running` maps a running node to what is left of it
 * (its own ETA, or the expected time less the time it has run; never below zero).
 */
export const runEta = (nodes: ReadonlyArray<EtaNode>, finished: ReadonlySet<string>, running: ReadonlyMap<string, number>): RunEta => {
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const finishAt = new Map<string, number>()
  let unknown = 0
  const finish = (name: string): number => {
    const known = finishAt.get(name)
    if (known !== undefined) return known
    const n = byName.get(name)
    let at = 0
    if (n && !finished.has(name)) {
      const left = running.get(name) ?? n.expectedMs
      if (left === undefined) unknown++
      // a running node has already started: what it waits on is behind it
      const start = running.has(name) ? 0 : Math.max(0, ...n.deps.map(finish))
      at = start + (left ?? 0)
    }
    finishAt.set(name, at)
    return at
  }
  let ms = 0
  for (const n of nodes) ms = Math.max(ms, finish(n.name))
  return { ms, unknown }
}
