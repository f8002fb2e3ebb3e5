/** The live progress of global nodes (training steps, examples): step/total, a live figure and an ETA. */
import { afterEach, describe, expect, it, vi } from "vitest"
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
