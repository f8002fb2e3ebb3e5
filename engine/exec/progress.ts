/**
 * Progress: one live bar per running node on a terminal (shards done/total, rows/s); on a pipe
 * or in CI, a plain line per node every few seconds instead, so logs stay readable.
 */
import { Context, Layer } from "effect"

export interface Progress {
  /** How many nodes this run will compute (for the overall line). */
  readonly plan: (nodes: number) => void
  readonly start: (node: string, total: number) => void
  readonly advance: (node: string, rows: number) => void
  /** Cluster tasks of a node not yet done: waiting in the queue and running. */
  readonly tasks?: (node: string, counts: { readonly queued: number; readonly running: number }) => void
  readonly end: (node: string) => void
  readonly close: () => void
}

export class ProgressBar extends Context.Tag("mathdag/Progress")<ProgressBar, Progress>() {
  static readonly silent = Layer.succeed(ProgressBar, { plan: () => {}, start: () => {}, advance: () => {}, end: () => {}, close: () => {} })
  static readonly auto = (stream: NodeJS.WriteStream = process.stderr) =>
    Layer.sync(ProgressBar, () => (stream.isTTY && !process.env.CI ? ttyProgress(stream) : plainProgress(stream)))
}

interface Bar {
  total: number
  done: number
  rows: number
  started: number
  /** shards in cluster tasks still queued / running (Slurm executor) */
  queued?: number
  running?: number
}

const taskCounts = (b: Bar) => (b.queued !== undefined ? ` · ${b.queued} queued, ${b.running ?? 0} running` : "")

const rate = (b: Bar) => {
  const s = (Date.now() - b.started) / 1000
  return s > 0 ? Math.round(b.rows / s) : 0
}

const ttyProgress = (out: NodeJS.WriteStream): Progress => {
  const bars = new Map<string, Bar>()
  let drawn = 0
  let planned = 0
  let finished = 0
  const started = Date.now()
  const draw = () => {
    const width = Math.max(10, Math.min(30, (out.columns ?? 80) - 60))
    let text = drawn > 0 ? `\x1b[${drawn}A` : ""
    const lines = [...bars].slice(0, 12)
    if (bars.size > 0) {
      const more = bars.size > lines.length ? `, ${bars.size - lines.length} more running` : ""
      text += `\x1b[2K  ${finished}/${planned} nodes done · ${((Date.now() - started) / 1000).toFixed(1)} s${more}\n`
    }
    for (const [name, b] of lines) {
      const frac = b.total > 0 ? b.done / b.total : 0
      const fill = Math.round(frac * width)
      text += `\x1b[2K  ${name.padEnd(24).slice(0, 24)} [${"█".repeat(fill)}${"·".repeat(width - fill)}] ${b.done}/${b.total} shards done${taskCounts(b)}  ${rate(b).toLocaleString("en-US")} rows/s\n`
    }
    const count = lines.length + (bars.size > 0 ? 1 : 0)
    for (let i = count; i < drawn; i++) text += "\x1b[2K\n"
    const extra = drawn - count
    if (extra > 0) text += `\x1b[${extra}A`
    drawn = count
    out.write(text)
  }
  const timer = setInterval(draw, 120)
  timer.unref()
  return {
    plan: (nodes) => void (planned = nodes),
    start: (node, total) => void bars.set(node, { total, done: 0, rows: 0, started: Date.now() }),
    advance: (node, rows) => {
      const b = bars.get(node)
      if (b) {
        b.done++
        b.rows += rows
      }
    },
    tasks: (node, c) => {
      const b = bars.get(node)
      if (b) Object.assign(b, c)
    },
    end: (node) => {
      if (bars.delete(node)) finished++
    },
    close: () => {
      clearInterval(timer)
      bars.clear()
      draw()
    },
  }
}

export const plainProgress = (out: NodeJS.WriteStream): Progress => {
  const bars = new Map<string, Bar & { lastPrint: number }>()
  let planned = 0
  let finished = 0
  let lastOverall = Date.now()
  const started = Date.now()
  return {
    plan: (nodes) => void (planned = nodes),
    start: (node, total) => void bars.set(node, { total, done: 0, rows: 0, started: Date.now(), lastPrint: Date.now() }),
    advance: (node, rows) => {
      const b = bars.get(node)
      if (!b) return
      b.done++
      b.rows += rows
      if (Date.now() - b.lastPrint > 5000) {
        b.lastPrint = Date.now()
        out.write(`  … ${node}: ${b.done}/${b.total} shards done${taskCounts(b)}, ${rate(b).toLocaleString("en-US")} rows/s\n`)
      }
    },
    tasks: (node, c) => {
      const b = bars.get(node)
      if (!b) return
      const changed = b.queued !== c.queued || b.running !== c.running
      Object.assign(b, c)
      if (changed && Date.now() - b.lastPrint > 5000) {
        b.lastPrint = Date.now()
        out.write(`  … ${node}: ${b.done}/${b.total} shards done${taskCounts(b)}\n`)
      }
    },
    end: (node) => {
      if (bars.delete(node)) finished++
      if (Date.now() - lastOverall > 5000) {
        lastOverall = Date.now()
        out.write(`  … ${finished}/${planned} nodes done after ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
      }
    },
    close: () => bars.clear(),
  }
}
