/** Small text helpers shared by the commands: aligned tables, sizes, durations. */
import { examplesOf } from "./overview.js"

/**
 * Text from data made safe for a terminal: control characters (escape sequences could move the
 * cursor, recolour or retitle the terminal) become visible symbols. Newlines are kept when asked.
 */
export const printable = (text: string, keepNewlines = false): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === "\n" && keepNewlines) return c
    const code = c.charCodeAt(0)
    if (code === 0x0a) return "⏎"
    if (code < 0x20) return String.fromCharCode(0x2400 + code) // ␛, ␉, ␍ …
    if (code === 0x7f) return "␡"
    return `\\x${code.toString(16)}`
  })

export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): string => {
  // one row per line: newlines inside values are shown as ⏎, other control characters as symbols
  const cells = [headers, ...rows.map((r) => r.map((c) => printable((c === null || c === undefined ? "" : typeof c === "object" ? JSON.stringify(c) : String(c)).replace(/\r\n/g, "\n"))))]
  const widths = headers.map((_, i) => Math.min(60, Math.max(...cells.map((r) => (r[i] ?? "").length))))
  const line = (r: ReadonlyArray<string>) =>
    r
      .map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + "…" : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(cells[0]!), widths.map((w) => "─".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n")
}

export const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`

export const seconds = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`)

export const num = (n: number): string => n.toLocaleString("en-US")

export const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/**
 * Colour is for a person at a terminal: a stream that is not one (a pipe, a file, CI logs), or any
 * stream when NO_COLOR is set (no-color.org), gets the text without SGR escape codes.
 */
export const plainWhenNotTerminal = (stream: NodeJS.WriteStream): void => {
  if (stream.isTTY && !process.env.NO_COLOR) return
  rewriteWrites(stream, (text) => text.replace(SGR, ""))
}

/** Select Graphic Rendition escape codes: bold, colours. */
const SGR = /\u001b\[[0-9;]*m/g

/** Passes every string written to `stream` through `f` from now on. */
const rewriteWrites = (stream: NodeJS.WriteStream, f: (text: string) => string): void => {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: Array<unknown>) => boolean
  stream.write = ((chunk: unknown, ...rest: Array<unknown>) => write(typeof chunk === "string" ? f(chunk) : chunk, ...rest)) as typeof stream.write
}

/**
 * @effect/cli's help, made to read as this tool's: usage lines start with `dag`; the type
 * boilerplate it prints under every option ("A user-defined piece of text.", "One of the
 * following: …", which the usage line already shows) is dropped, leaving each option's own
 * description; the verb's examples come after its description; the options every command takes
 * (--completions, --log-level, --wizard, --version) shrink to one closing line.
 */
export const tidyHelp = (text: string): string => {
  // plain text: the patterns below must not trip over the bold and colour codes around names
  let out = text
    .replace(SGR, "")
    .replace(/^dag\n\ndag \S+\n\n/, "")
    .replace(/^\$ (?!dag\b)/gm, "$ dag ")
    .replace(
      /^ *(A user-defined piece of text|A true or false value|An integer|A floating point number|A file system path|A directory|A file|A user-defined piece of text that is one of)\.\n\n?/gm,
      ""
    )
    .replace(/^ *This setting is optional\.\n\n?/gm, "")
    .replace(/^ *One of the following: [^\n]*\n\n?/gm, "")
    .replace(/^ *This option may be repeated zero or more times\.\n\n?/gm, "")
  const builtIns = out.search(/^--completions /m)
  if (builtIns >= 0) {
    // up to the next section (COMMANDS, when @effect/cli prints the top level), else the end
    const next = out.slice(builtIns).search(/^[A-Z][A-Z ]+$/m)
    const rest = next >= 0 ? out.slice(builtIns + next) : ""
    out = `${out.slice(0, builtIns)}Every command also takes --help; \`dag --version\` prints the version, \`dag --completions bash\` a completion script.\n\n${rest}`
  }
  const verb = /^\$ dag (\S+)/m.exec(out)?.[1]
  const examples = verb ? examplesOf(verb) : []
  const at = out.search(/^(ARGUMENTS|OPTIONS)$/m)
  if (examples.length > 0 && at >= 0) out = `${out.slice(0, at)}EXAMPLES\n\n${examples.map((e) => `  $ ${e}`).join("\n")}\n\n${out.slice(at)}`
  return out.replace(/\n{3,}/g, "\n\n")
}

/** While `--help` is being printed, stdout goes through tidyHelp. */
export const tidyHelpOutput = (stream: NodeJS.WriteStream): void => rewriteWrites(stream, tidyHelp)
