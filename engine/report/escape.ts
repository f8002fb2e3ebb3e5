/**
 * Escaping for the report. Every value that came from data (scraped text, URLs, paths) goes
 * through `html` or `attr`; the page also carries a Content-Security-Policy with no script source,
 * so a missed spot still cannot run code.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

export const html = (value: unknown): string => String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!)

/** For attribute values (always quoted by the caller with double quotes). */
export const attr = html

/** Markdown text and table cells: pipes and newlines would break a table, and raw HTML would render. */
export const md = (value: unknown): string =>
  String(value ?? "")
    .replace(/\\/g, "\\\\")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n/g, " ")

/** Shortens long values for display, marking the cut. */
export const clip = (value: unknown, max = 240): string => {
  const s = typeof value === "string" ? value : value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value)
  return s.length > max ? `${s.slice(0, max)}… (${s.length.toLocaleString("en-US")} chars)` : s
}

/** A tiny Markdown subset rendered safely: the text is escaped first, then formatted. */
export const markdownToHtml = (text: string): string =>
  text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split("\n")
      if (lines.every((l) => /^\s*[-*] /.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ""))}</li>`).join("")}</ul>`
      const h = /^(#{1,4}) (.*)$/.exec(block)
      if (h) return `<h${h[1]!.length + 2}>${inline(h[2]!)}</h${h[1]!.length + 2}>`
      return `<p>${inline(block)}</p>`
    })
    .join("\n")

const inline = (s: string): string =>
  html(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/\*([^*]+)\*/g, "<em>$1</em>")
