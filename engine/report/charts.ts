/**
 * Charts as inline SVG, drawn by hand: no script, no network, crisp in print. Bar, histogram,
 * line and timeline, with labelled axes and formatted numbers. Every label is escaped.
 */
import { html } from "./escape.js"

const W = 640
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="11"`
const INK = "#1f2933"
const MUTED = "#7b8794"
const GRID = "#e4e7eb"
export const PALETTE = ["#3b6ea5", "#d9822b", "#3f8f5f", "#a8444f", "#7a5ea8", "#2a8c8c", "#b0903d", "#5c6b7a"]

export const fmt = (n: number): string => {
  if (!Number.isFinite(n)) return String(n)
  const a = Math.abs(n)
  if (a >= 1e9) return `${(n / 1e9).toFixed(a >= 1e10 ? 0 : 1)}B`
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`
  if (a >= 1e4) return `${(n / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`
  if (Number.isInteger(n)) return n.toLocaleString("en-US")
  return Number(n.toPrecision(3)).toLocaleString("en-US")
}

/** About `count` round tick values covering [lo, hi]. */
export const ticks = (lo: number, hi: number, count = 5): Array<number> => {
  if (hi === lo) return [lo]
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: Array<number> = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

const svg = (height: number, body: string, label: string): string =>
  `<svg class="chart" role="img" aria-label="${html(label)}" viewBox="0 0 ${W} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg" ${FONT}>${body}</svg>`

const text = (x: number, y: number, s: string, anchor: "start" | "middle" | "end" = "start", fill = INK, extra = "") =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" fill="${fill}"${extra}>${html(s)}</text>`

export interface BarDatum {
  readonly label: string
  readonly value: number
  readonly color?: string
}

/** Labels longer than this are shortened with "…" (the full text is in the mark's tooltip). */
const LABEL_CHARS = 40

/** The width of a column of right-aligned labels (about 6.4 px a character at 11 px), and each label as shown. */
const labelColumn = (labels: ReadonlyArray<string>) => ({
  width: Math.max(60, ...labels.map((l) => Math.min(l.length, LABEL_CHARS) * 6.4)),
  fit: (l: string) => (l.length > LABEL_CHARS ? `${l.slice(0, LABEL_CHARS - 1)}…` : l),
})

/** Horizontal bars, one per datum, with the value printed at the end of each bar. */
export const barChart = (data: ReadonlyArray<BarDatum>, options: { readonly valueLabel?: string; readonly title?: string } = {}): string => {
  if (data.length === 0) return `<p class="empty">no data</p>`
  const rows = data.slice(0, 40)
  const labels = labelColumn(rows.map((d) => d.label))
  const left = labels.width + 12
  const right = 56
  const barH = 18
  const gap = 6
  const top = 8
  const plotH = rows.length * (barH + gap)
  const height = top + plotH + 36
  const max = Math.max(...rows.map((d) => d.value), 0) || 1
  const tickVals = ticks(0, max, 4)
  const scale = (v: number) => left + (v / Math.max(max, tickVals.at(-1) ?? max)) * (W - left - right)
  let body = ""
  for (const t of tickVals) {
    const x = scale(t)
    body += `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + plotH}" stroke="${GRID}"/>`
    body += text(x, top + plotH + 14, fmt(t), "middle", MUTED)
  }
  rows.forEach((d, i) => {
    const y = top + i * (barH + gap)
    const w = Math.max(1, scale(Math.max(0, d.value)) - left)
    body += text(left - 8, y + barH / 2 + 4, labels.fit(d.label), "end")
    body += `<rect class="mark" x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${d.color ?? PALETTE[0]}"><title>${html(`${d.label}: ${d.value.toLocaleString("en-US")}`)}</title></rect>`
    body += text(left + w + 6, y + barH / 2 + 4, fmt(d.value), "start", INK)
  })
  if (options.valueLabel) body += text(left + (W - left - right) / 2, height - 4, options.valueLabel, "middle", MUTED)
  if (data.length > rows.length) body += text(left, height - 4, `(${data.length - rows.length} more not shown)`, "start", MUTED)
  return svg(height, body, options.title ?? "bar chart")
}

const axes = (x0: number, y0: number, x1: number, y1: number, xt: ReadonlyArray<{ v: number; x: number }>, yt: ReadonlyArray<{ v: number; y: number }>, xLabel?: string, yLabel?: string) => {
  let body = ""
  for (const t of yt) {
    body += `<line x1="${x0}" y1="${t.y.toFixed(1)}" x2="${x1}" y2="${t.y.toFixed(1)}" stroke="${GRID}"/>`
    body += text(x0 - 6, t.y + 4, fmt(t.v), "end", MUTED)
  }
  // low enough that the first x tick clears the y axis's "0" at the same corner
  for (const t of xt) body += text(t.x, y0 + 19, fmt(t.v), "middle", MUTED)
  body += `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="${MUTED}"/>`
  if (xLabel) body += text((x0 + x1) / 2, y0 + 34, xLabel, "middle", INK)
  if (yLabel) body += `<text transform="translate(12 ${((y0 + y1) / 2).toFixed(1)}) rotate(-90)" text-anchor="middle" fill="${INK}">${html(yLabel)}</text>`
  return body
}

/** Equal-width bins over the values' range, drawn as adjoining vertical bars. */
export const histogram = (values: ReadonlyArray<number>, options: { readonly bins?: number; readonly xLabel?: string; readonly title?: string } = {}): string => {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return `<p class="empty">no data</p>`
  let lo = Infinity
  let hi = -Infinity
  for (const v of finite) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (hi === lo) hi = lo + 1
  const n = Math.max(1, Math.min(100, options.bins ?? 20))
  const counts = new Array<number>(n).fill(0)
  for (const v of finite) counts[Math.min(n - 1, Math.floor(((v - lo) / (hi - lo)) * n))]!++
  const x0 = 56
  const x1 = W - 16
  const y1 = 10
  const y0 = 190
  const max = Math.max(...counts)
  const yt = ticks(0, max, 4)
  const top = Math.max(max, yt.at(-1) ?? max) || 1
  const sx = (v: number) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0)
  const sy = (c: number) => y0 - (c / top) * (y0 - y1)
  let body = axes(
    x0,
    y0,
    x1,
    y1,
    ticks(lo, hi, 6).map((v) => ({ v, x: sx(v) })),
    yt.map((v) => ({ v, y: sy(v) })),
    options.xLabel,
    "count"
  )
  counts.forEach((c, i) => {
    const a = lo + ((hi - lo) * i) / n
    const b = lo + ((hi - lo) * (i + 1)) / n
    const xa = sx(a)
    const w = Math.max(1, sx(b) - xa - 1)
    body += `<rect class="mark" x="${xa.toFixed(1)}" y="${sy(c).toFixed(1)}" width="${w.toFixed(1)}" height="${(y0 - sy(c)).toFixed(1)}" fill="${PALETTE[0]}"><title>${html(`${fmt(a)} – ${fmt(b)}: ${c.toLocaleString("en-US")}`)}</title></rect>`
  })
  body += text(x1, y1 + 4, `n = ${finite.length.toLocaleString("en-US")}`, "end", MUTED)
  return svg(230, body, options.title ?? "histogram")
}

export interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
}

/** More points than pixels only makes the page heavy. */
const MAX_LINE_POINTS = 1500

/** Every k-th point (and the last), so a long series keeps its shape at a bounded size. */
const thin = <A>(points: ReadonlyArray<A>, max: number): ReadonlyArray<A> => {
  if (points.length <= max) return points
  const step = Math.ceil(points.length / max)
  const out = points.filter((_, i) => i % step === 0)
  if ((points.length - 1) % step !== 0) out.push(points[points.length - 1]!)
  return out
}

/** One polyline per series over shared numeric axes, with a legend when there are several. */
export const lineChart = (series: ReadonlyArray<Series>, options: { readonly xLabel?: string; readonly yLabel?: string; readonly title?: string } = {}): string => {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  if (all.length === 0) return `<p class="empty">no data</p>`
  // a loop, not Math.min(...xs): a node's chart can have hundreds of thousands of points
  let xlo = Infinity
  let xhi = -Infinity
  let ylo = 0
  let yhi = -Infinity
  for (const [x, y] of all) {
    if (x < xlo) xlo = x
    if (x > xhi) xhi = x
    if (y < ylo) ylo = y
    if (y > yhi) yhi = y
  }
  if (xhi === xlo) ((xlo -= 1), (xhi += 1))
  if (yhi === ylo) yhi = ylo + 1
  const yt = ticks(ylo, yhi, 5)
  ylo = Math.min(ylo, yt[0] ?? ylo)
  yhi = Math.max(yhi, yt.at(-1) ?? yhi)
  const x0 = 60
  const x1 = W - 16
  const perRow = 4
  const legendRows = series.length > 1 ? Math.ceil(Math.min(series.length, 12) / perRow) : 0
  const y1 = 10 + legendRows * 16
  const y0 = 200 + legendRows * 16
  const sx = (v: number) => x0 + ((v - xlo) / (xhi - xlo)) * (x1 - x0)
  const sy = (v: number) => y0 - ((v - ylo) / (yhi - ylo)) * (y0 - y1)
  let body = axes(
    x0,
    y0,
    x1,
    y1,
    ticks(xlo, xhi, 6).map((v) => ({ v, x: sx(v) })),
    yt.map((v) => ({ v, y: sy(v) })),
    options.xLabel,
    options.yLabel
  )
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]
    const pts = thin(
      [...s.points].filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]),
      MAX_LINE_POINTS
    )
    const d = pts.map(([x, y], j) => `${j ? "L" : "M"}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(" ")
    body += `<path class="mark" d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"><title>${html(s.name)}</title></path>`
    if (pts.length <= 40)
      for (const [x, y] of pts) body += `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"><title>${html(`${s.name}: ${fmt(x)}, ${fmt(y)}`)}</title></circle>`
    if (series.length > 1 && i < 12) {
      const lx = x0 + (i % perRow) * 140
      const ly = 4 + Math.floor(i / perRow) * 16
      // Keep the end of long names: for paths and ids the end is what tells series apart.
      const name = s.name.length > 20 ? `…${s.name.slice(-19)}` : s.name
      body += `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/>` + text(lx + 14, ly + 9, name)
    }
  })
  return svg(240 + legendRows * 16, body, options.title ?? "line chart")
}

export interface Span {
  readonly label: string
  readonly start: number
  readonly end: number
  readonly color: string
}

/** When each node ran, on a shared time axis (milliseconds from the run's start). */
export const timeline = (spans: ReadonlyArray<Span>, options: { readonly title?: string } = {}): string => {
  if (spans.length === 0) return `<p class="empty">nothing ran</p>`
  const rows = spans.slice(0, 60)
  const labels = labelColumn(rows.map((s) => s.label))
  const left = labels.width + 12
  const right = 16
  const h = 14
  const top = 6
  const end = Math.max(...rows.map((s) => s.end), 1)
  const xt = ticks(0, end, 6)
  const scaleEnd = Math.max(end, xt.at(-1) ?? end)
  const sx = (ms: number) => left + (ms / scaleEnd) * (W - left - right)
  const plotH = rows.length * (h + 4)
  let body = ""
  for (const t of xt) {
    body += `<line x1="${sx(t).toFixed(1)}" y1="${top}" x2="${sx(t).toFixed(1)}" y2="${top + plotH}" stroke="${GRID}"/>`
    body += text(sx(t), top + plotH + 14, `${fmt(t / 1000)} s`, "middle", MUTED)
  }
  rows.forEach((s, i) => {
    const y = top + i * (h + 4)
    body += text(left - 8, y + h - 3, labels.fit(s.label), "end")
    body += `<rect class="mark" x="${sx(s.start).toFixed(1)}" y="${y}" width="${Math.max(2, sx(s.end) - sx(s.start)).toFixed(1)}" height="${h}" rx="2" fill="${s.color}"><title>${html(`${s.label}: ${((s.end - s.start) / 1000).toFixed(3)} s`)}</title></rect>`
  })
  body += text(left + (W - left - right) / 2, top + plotH + 30, "seconds since the run started", "middle", MUTED)
  return svg(top + plotH + 36, body, options.title ?? "timeline")
}
