/**
 * Banned selectors (OpenWebMath's list) matched in one pass. The list holds only `.class`, `#id`,
 * `tag` and `[class*="…"]` selectors; a general CSS engine over 129 selectors costs 3× the parse.
 */
import type { Element } from "domhandler"

export interface SelectorSet {
  readonly matches: (el: Element) => boolean
}

export const compileSelectors = (lines: ReadonlyArray<string>): SelectorSet => {
  const classes = new Set<string>()
  const ids = new Set<string>()
  const tags = new Set<string>()
  const classSubstrings: Array<string> = []
  for (const raw of lines) {
    const s = raw.trim()
    if (!s || s.startsWith("//")) continue
    const sub = /^\[class\*=["']?([^"'\]]+)["']?\]$/.exec(s)
    if (sub) classSubstrings.push(sub[1]!)
    else if (/^\.[\w-]+$/.test(s)) classes.add(s.slice(1))
    else if (/^#[\w-]+$/.test(s)) ids.add(s.slice(1))
    else if (/^[a-zA-Z][\w-]*$/.test(s)) tags.add(s.toLowerCase())
    else throw new Error(`unsupported banned selector "${s}" (supported: .class, #id, tag, [class*="…"])`)
  }
  return {
    matches: (el) => {
      if (tags.has(el.name)) return true
      const id = el.attribs.id
      if (id !== undefined && ids.has(id)) return true
      const cls = el.attribs.class
      if (!cls) return false
      for (const c of cls.split(/\s+/)) if (classes.has(c)) return true
      for (const sub of classSubstrings) if (cls.includes(sub)) return true
      return false
    },
  }
}
