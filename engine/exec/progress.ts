/**
 * Progress: one live bar per running node on a terminal (shards done/total, rows/s); on a pipe
 * or in CI, a plain line per node every few seconds instead, so logs stay readable.
 */
import { Context, Layer } from "effect"
import type { StepProgress } from "../node.js"
import { runEta, type EtaNode } from "./eta.js"

export interface Progress {
  /** How many nodes this run will compute (for the overall line), and what the run's ETA is made of. */
  readonly plan: (nodes: number, eta?: ReadonlyArray<EtaNode>) => void
  readonly start: (node: string, total: number) => void
  readonly advance: (node: string, rows: number) => void
  /** Cluster tasks of a node not yet done: waiting in the queue and running. */
  readonly tasks?: (node: string, counts: { readonly queued: number; readonly running: number }) => void
  /** A global node's own progress (training steps, examples): replaces the shard count on its line. */
  readonly step?: (node: string, p: StepProgress) => void
  readonly end: (node: string) => void
  /** A node computed whole in this run (no shard cached, no failure) took `ms`: the ETA learns the run's pace from it. */
  readonly timed?: (node: string, ms: number) => void
  readonly close: () => void
}

export class ProgressBar extends Context.Tag("mathdag/Progress")<ProgressBar, Progress>() {
  static readonly silent = Layer.succeed(ProgressBar, { plan: () => {}, start: () => {}, advance: () => {}, end: () => {}, close: () => {} })
  static readonly auto = (stream: NodeJS.WriteStream = process.stderr) => Layer.sync(ProgressBar, () => (stream.isTTY && !process.env.CI ? ttyProgress(stream) : plainProgress(stream)))
}

interface Bar {
  total: number
  done: number
  rows: number
  started: number
  /** shards in cluster tasks still queued / running (Slurm executor) */
  queued?: number
  running?: number
  /** a global node's own progress, and when its first report came (the ETA's clock) */
  step?: StepProgress & { readonly since: number; readonly from: number; readonly at: number }
}

const seconds = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : s >= 90 ? `${Math.round(s / 60)} min` : `${Math.max(1, Math.round(s))} s`)

/** Seconds left of a global node's own progress: the pace up to the latest report, counted down since (no drift while a step runs). */
const stepLeft = (st: NonNullable<Bar["step"]>): number | undefined => {
  const pace = st.done > st.from ? (st.at - st.since) / 1000 / (st.done - st.from) : 0
  return pace > 0 && st.total > st.done ? Math.max(1, pace * (st.total - st.done) - (Date.now() - st.at) / 1000) : undefined
}

/** Seconds left of a shard node, from its pace so far. */
const shardLeft = (b: Bar): number | undefined => {
  const elapsed = (Date.now() - b.started) / 1000
  return b.done > 0 && b.done < b.total ? Math.max(1, (elapsed / b.done) * (b.total - b.done)) : undefined
}

/** "40/80 steps · loss 2.91 · ETA 52 s": the ETA from the pace since the first report. */
const stepText = (st: NonNullable<Bar["step"]>) => {
  const left = stepLeft(st)
  return `${st.done}/${st.total} ${st.unit}${st.note ? ` · ${st.note}` : ""}${left !== undefined ? ` · ETA ${seconds(left)}` : ""}`
}

const recordStep = (b: Bar | undefined, p: StepProgress) => {
  if (!b) return
  // a new total or unit (the node moved to another phase) restarts the ETA's clock
  const same = b.step && b.step.total === p.total && b.step.unit === p.unit
  b.step = { ...p, since: same ? b.step!.since : Date.now(), from: same ? b.step!.from : p.done, at: Date.now() }
}

const taskCounts = (b: Bar) => (b.queued !== undefined ? ` · ${b.queued} queued, ${b.running ?? 0} running` : "")

/**
 * A shard node's line: shards done, rows/s and an ETA from its pace so far; a node of one shard
 * (a global node without its own progress) says how long it has been running instead of "0/1".
 */
const shardText = (b: Bar): string => {
  const elapsed = (Date.now() - b.started) / 1000
  if (b.total === 1 && b.done === 0) return `running · ${seconds(Math.max(0, elapsed))}${taskCounts(b)}`
  const left = shardLeft(b)
  const eta = left !== undefined ? ` · ETA ${seconds(left)}` : ""
  return `${b.done}/${b.total} shards done${taskCounts(b)} · ${rate(b).toLocaleString("en-US")} rows/s${eta}`
}

/** Nodes shorter than this last time say little about this run's pace (start-up dominates). */
const PACE_MIN_MS = 100
/** How much last-time work must have finished before the run's pace is trusted. */
const PACE_EVIDENCE_MS = 2000
/** Above this many nodes the pace is the run's alone (ancestor sets would cost more than they tell). */
const BRANCH_PACE_NODES = 500

const ratio = (ran: number, last: number): number => Math.min(100, Math.max(0.1, ran / last))

/**
 * The run's ETA text (" · run ETA 40 s"; "≥" when some nodes were never timed here), or "" when
 * nothing is known. Running nodes count their own ETA, else their last time less what has run.
 *
 * Last times come from whatever data and machine the store last saw. Once enough nodes finished,
 * the others' last times are scaled by how this run compares (ten times the data makes the first
 * nodes take about ten times as long, and so the rest), and the text says so. A node whose own
 * upstream nodes say enough goes at their pace: when only one source grew, only its branch slows.
 */
export class RunClock {
  private nodes: ReadonlyArray<EtaNode> = []
  private expected = new Map<string, number | undefined>()
  private readonly finished = new Set<string>()
  // the nodes finished whole in this run that had a last time: their times now and then
  private readonly times = new Map<string, { readonly ran: number; readonly last: number }>()
  private ranMs = 0
  private lastMsOfRan = 0
  private ancestors = new Map<string, ReadonlySet<string>>()

  plan(eta: ReadonlyArray<EtaNode> | undefined): void {
    this.nodes = eta ?? []
    this.expected = new Map(this.nodes.map((n) => [n.name, n.expectedMs]))
    this.ancestors = new Map()
    if (this.nodes.length > BRANCH_PACE_NODES) return
    const deps = new Map(this.nodes.map((n) => [n.name, n.deps]))
    const of = (name: string): ReadonlySet<string> => {
      const known = this.ancestors.get(name)
      if (known) return known
      const set = new Set<string>()
      this.ancestors.set(name, set) // a cycle (none in a planned DAG) ends here
      for (const d of deps.get(name) ?? []) {
        set.add(d)
        for (const a of of(d)) set.add(a)
      }
      return set
    }
    for (const n of this.nodes) of(n.name)
  }

  end(node: string): void {
    this.finished.add(node)
  }

  /**
   * A node computed whole in this run took `ms`. Only such nodes set the pace: a failed one, or one
   * that reused most of its shards, took a time that says nothing about the others.
   */
  timed(node: string, ms: number): void {
    const last = this.expected.get(node)
    if (last === undefined || last < PACE_MIN_MS || this.times.has(node)) return
    this.times.set(node, { ran: ms, last })
    this.ranMs += ms
    this.lastMsOfRan += last
  }

  /** This run's time for a node over its last time, from the nodes finished so far (1 until known). */
  get pace(): number {
    return this.lastMsOfRan >= PACE_EVIDENCE_MS ? ratio(this.ranMs, this.lastMsOfRan) : 1
  }

  /** A node's pace: its upstream nodes' where they finished enough work, else the run's. */
  paceOf(node: string): number {
    let ran = 0
    let last = 0
    for (const a of this.ancestors.get(node) ?? []) {
      const t = this.times.get(a)
      if (t) ((ran += t.ran), (last += t.last))
    }
    return last >= PACE_EVIDENCE_MS ? ratio(ran, last) : this.pace
  }

  /** How many distinct nodes have ended (a node recomputed to repair a corrupt shard ends twice). */
  get done(): number {
    return this.finished.size
  }

  text(bars: ReadonlyMap<string, Bar>): string {
    if (this.nodes.length === 0) return ""
    const pace = this.pace
    const running = new Map<string, number>()
    for (const [name, b] of bars) {
      const own = b.step ? stepLeft(b.step) : shardLeft(b)
      const expected = this.expected.get(name)
      if (own !== undefined) running.set(name, own * 1000)
      else if (expected !== undefined) running.set(name, Math.max(0, expected * this.paceOf(name) - (Date.now() - b.started)))
    }
    const nodes = this.times.size === 0 ? this.nodes : this.nodes.map((n) => (n.expectedMs === undefined ? n : { ...n, expectedMs: n.expectedMs * this.paceOf(n.name) }))
    const { ms, unknown } = runEta(nodes, this.finished, running)
    if (ms <= 0 && unknown > 0) return ""
    const compared = pace >= 1.5 ? ` (nodes take ${pace.toFixed(1)}× their last time)` : pace <= 1 / 1.5 ? ` (nodes take ${pace.toFixed(2)}× their last time)` : ""
    return ` · run ETA ${unknown > 0 ? "≥ " : ""}${seconds(Math.max(1, ms / 1000))}${compared}`
  }
}

const rate = (b: Bar) => {
  const s = (Date.now() - b.started) / 1000
  return s > 0 ? Math.round(b.rows / s) : 0
}

const ttyProgress = (out: NodeJS.WriteStream): Progress => {
  const bars = new Map<string, Bar>()
  let drawn = 0
  let planned = 0
  const started = Date.now()
  const clock = new RunClock()
  const draw = () => {
    const width = Math.max(10, Math.min(30, (out.columns ?? 80) - 60))
    let text = drawn > 0 ? `\x1b[${drawn}A` : ""
    const lines = [...bars].slice(0, 12)
    if (bars.size > 0) {
      const more = bars.size > lines.length ? `, ${bars.size - lines.length} more running` : ""
      text += `\x1b[2K  ${clock.done}/${planned} nodes done · ${((Date.now() - started) / 1000).toFixed(1)} s${clock.text(bars)}${more}\n`
    }
    const nameWidth = Math.max(24, ...lines.map(([n]) => n.length))
    for (const [name, b] of lines) {
      const frac = b.step ? (b.step.total > 0 ? b.step.done / b.step.total : 0) : b.total > 0 ? b.done / b.total : 0
      const fill = Math.round(Math.min(1, frac) * width)
      const what = b.step ? stepText(b.step) : shardText(b)
      text += `\x1b[2K  ${name.padEnd(nameWidth)} [${"█".repeat(fill)}${"·".repeat(width - fill)}] ${what}\n`
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
    plan: (nodes, eta) => {
      planned = nodes
      clock.plan(eta)
    },
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
    step: (node, p) => recordStep(bars.get(node), p),
    timed: (node, ms) => clock.timed(node, ms),
    end: (node) => {
      clock.end(node)
      // a node found cached inside the run never started a bar, and is done all the same
      bars.delete(node)
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
  let lastOverall = Date.now()
  const started = Date.now()
  const clock = new RunClock()
  return {
    plan: (nodes, eta) => {
      planned = nodes
      clock.plan(eta)
    },
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
    step: (node, p) => {
      const b = bars.get(node)
      if (!b) return
      recordStep(b, p)
      if (Date.now() - b.lastPrint > 5000) {
        b.lastPrint = Date.now()
        out.write(`  … ${node}: ${stepText(b.step!)}\n`)
      }
    },
    timed: (node, ms) => clock.timed(node, ms),
    end: (node) => {
      clock.end(node)
      // a node found cached inside the run never started a bar, and is done all the same
      bars.delete(node)
      if (Date.now() - lastOverall > 5000) {
        lastOverall = Date.now()
        out.write(`  … ${clock.done}/${planned} nodes done after ${((Date.now() - started) / 1000).toFixed(0)} s${clock.text(bars)}\n`)
      }
    },
    close: () => bars.clear(),
  }
}
