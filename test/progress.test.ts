/** The live progress of global nodes (training steps, examples): step/total, a live figure and an ETA. */
import { afterEach, describe, expect, it, vi } from "vitest"
import { runEta, type EtaNode } from "../engine/exec/eta.js"
import { plainProgress } from "../engine/exec/progress.js"

afterEach(() => void vi.useRealTimers())

describe("progress of a global node", () => {
  it("prints step/total, the node's figure and an ETA from the pace since its first report (plain output, every 5 s)", () => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
    const lines: Array<string> = []
    const p = plainProgress({ write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WriteStream)
    p.plan(1)
    p.start("train/torch-with-a-long-name", 1)
    p.step!("train/torch-with-a-long-name", { done: 0, total: 80, unit: "steps" })
    vi.setSystemTime(2000)
    p.step!("train/torch-with-a-long-name", { done: 4, total: 80, unit: "steps", note: "loss 3.4" })
    expect(lines).toEqual([]) // at most one line per node every 5 s
    vi.setSystemTime(6000)
    p.step!("train/torch-with-a-long-name", { done: 10, total: 80, unit: "steps", note: "loss 3.1" })
    // 6 s for 10 steps: 70 more take 42 s; the full name is kept
    expect(lines).toEqual(["  … train/torch-with-a-long-name: 10/80 steps · loss 3.1 · ETA 42 s\n"])
    // a new phase (another unit or total) restarts the ETA's clock
    vi.setSystemTime(12_000)
    p.step!("train/torch-with-a-long-name", { done: 0, total: 8, unit: "MATH examples" })
    vi.setSystemTime(18_000)
    p.step!("train/torch-with-a-long-name", { done: 2, total: 8, unit: "MATH examples" })
    expect(lines.at(-1)).toBe("  … train/torch-with-a-long-name: 2/8 MATH examples · ETA 18 s\n")
  })
})

describe("the run's ETA", () => {
  // a → b → d and a → c → d: the longer branch (c, 30 s) sets the pace, not the sum of all
  const nodes = [
    { name: "a", deps: [], expectedMs: 10_000 },
    { name: "b", deps: ["a"], expectedMs: 5_000 },
    { name: "c", deps: ["a"], expectedMs: 30_000 },
    { name: "d", deps: ["b", "c"], expectedMs: 2_000 },
  ]
  it("is the longest chain still to run, each node at its last time, a running node at what is left of it", () => {
    expect(runEta(nodes, new Set(), new Map())).toEqual({ ms: 42_000, unknown: 0 })
    expect(runEta(nodes, new Set(["a"]), new Map([["c", 12_000]]))).toEqual({ ms: 14_000, unknown: 0 })
    expect(runEta(nodes, new Set(["a", "b", "c", "d"]), new Map())).toEqual({ ms: 0, unknown: 0 })
  })
  it("counts the nodes it has no time for, so the display can say the estimate is a floor", () => {
    const fresh = nodes.map((n) => (n.name === "c" ? { ...n, expectedMs: undefined } : n))
    expect(runEta(fresh, new Set(), new Map())).toEqual({ ms: 17_000, unknown: 1 })
  })
  /** Plain progress over `list` at fake time 0, with `started` running. */
  const planned = (list: ReadonlyArray<EtaNode> = nodes, started: ReadonlyArray<string> = ["a"]) => {
    vi.useFakeTimers()
    vi.setSystemTime(0)
    const lines: Array<string> = []
    const p = plainProgress({ write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WriteStream)
    p.plan(list.length, list)
    for (const n of started) p.start(n, 1)
    return { p, lines }
  }
  it("appears on the plain overall line", () => {
    const { p, lines } = planned()
    vi.setSystemTime(10_000)
    p.end("a")
    // a done: c (30 s) then d (2 s) are left
    expect(lines).toEqual(["  … 1/4 nodes done after 10 s · run ETA 32 s\n"])
  })
  it("scales the last times by this run's pace once enough has finished, and says so", () => {
    const { p, lines } = planned()
    // three times the data: a takes 30 s instead of 10 s, so c and d should take 96 s, not 32 s
    vi.setSystemTime(30_000)
    p.timed!("a", 30_000)
    p.end("a")
    expect(lines.at(-1)).toMatch(/^ {2}… 1\/4 nodes done after 30 s · run ETA 2 min \(nodes take 3\.0× their last time\)\n$/)
    // the pace is what every finished node says together: b ran 6 s for its 5 s, so 36 s for 15 s
    p.start("b", 1)
    vi.setSystemTime(36_000)
    p.timed!("b", 6_000)
    p.end("b")
    expect(lines.at(-1)).toMatch(/nodes take 2\.4× their last time/)
  })
  it("gives each branch its own upstream pace: when only one source grew, only its branch slows", () => {
    // two independent branches, a → b and c → d
    const branches = [
      { name: "a", deps: [], expectedMs: 10_000 },
      { name: "b", deps: ["a"], expectedMs: 5_000 },
      { name: "c", deps: [], expectedMs: 10_000 },
      { name: "d", deps: ["c"], expectedMs: 20_000 },
    ]
    const { p, lines } = planned(branches, ["a", "c"])
    vi.setSystemTime(10_000)
    p.timed!("c", 10_000)
    p.end("c")
    // a's data tripled, c's did not: b takes 15 s, d 20 s (one run-wide pace of 2× would say 40 s)
    vi.setSystemTime(30_000)
    p.timed!("a", 30_000)
    p.end("a")
    expect(lines.at(-1)).toBe("  … 2/4 nodes done after 30 s · run ETA 20 s (nodes take 2.0× their last time)\n")
  })
  it("learns nothing from a node that failed or reused shards (it ends without a time)", () => {
    const { p, lines } = planned()
    vi.setSystemTime(30_000)
    p.end("a")
    expect(lines.at(-1)).toBe("  … 1/4 nodes done after 30 s · run ETA 32 s\n")
  })
})
