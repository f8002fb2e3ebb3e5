/**
 * Answers of MATH and GSM8k, Minerva-style (Lewkowycz et al. 2022): a MATH solution's answer is its
 * last \boxed{…}; a model's answer is what follows "Final Answer: The final answer is", else its last
 * \boxed{…}; both are normalised (units and \text dropped, \dfrac → \frac, \frac12 → \frac{1}{2},
 * spaces, dollars and a trailing period removed, "x =" prefixes dropped) before comparing. GSM8k's
 * gold is the number after "####"; a model's answer is the number after "The answer is", else its
 * last number; commas and a trailing ".0" are ignored.
 */

/** The content of the last \boxed{…} (or \fbox{…}), braces balanced; undefined when there is none. */
export const lastBoxed = (text: string): string | undefined => {
  const at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"))
  if (at < 0) return undefined
  const open = text.indexOf("{", at)
  if (open < 0) {
    // "\boxed 5"
    const m = /^\\boxed\s+([^\s$]+)/.exec(text.slice(at))
    return m?.[1]
  }
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i)
  }
  return undefined
}

const UNIT_WORDS = [
  "square",
  "ways",
  "integers",
  "dollars",
  "mph",
  "inches",
  "ft",
  "hours",
  "km",
  "units",
  "\\ldots",
  "sue",
  "points",
  "feet",
  "minutes",
  "digits",
  "cents",
  "degrees",
  "cm",
  "gm",
  "pounds",
  "meters",
  "meals",
  "edges",
  "students",
  "childrentickets",
  "multiples",
  "\\text{s}",
  "\\text{.}",
  "\\text{\ns}",
  "\\text{}^2",
  "\\text{}^3",
  "\\text{\n}",
  "\\text{}",
  "\\mbox{m}",
  "\\mbox{cm}",
]

/** Minerva-style normalisation of a final answer. */
export const normalizeMath = (answer: string): string => {
  let a = answer.split("=").at(-1)!.trim()
  a = a
    .replace(/\\text\{\s*([^{}]*)\}/g, "$1")
    .replace(/\\textbf\{([^{}]*)\}/g, "$1")
    .replace(/\\mbox\{([^{}]*)\}/g, "$1")
  a = a.replace(/\\overline\{([^{}]*)\}/g, "$1")
  for (const unit of UNIT_WORDS) a = a.replaceAll(unit, "")
  a = a
    .replace(/\^\{?\\circ\}?/g, "")
    .replace(/\\%|%/g, "")
    .replace(/\\\$|\$/g, "")
  a = a
    .replace(/\\[dt]frac/g, "\\frac")
    .replace(/\\left|\\right/g, "")
    .replace(/\\!|\\,|\\;|\\ /g, "")
  // \frac12 → \frac{1}{2}, \frac1{2} → \frac{1}{2}, \sqrt2 → \sqrt{2}
  a = a
    .replace(/\\frac(\d)(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\frac(\d)\{/g, "\\frac{$1}{")
    .replace(/\\frac\{([^{}]*)\}(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\sqrt(\d+)/g, "\\sqrt{$1}")
  a = a.replace(/\s+/g, "").replace(/\.$/, "")
  // 1,000 → 1000 (a comma between digit groups only)
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(a)) a = a.replaceAll(",", "")
  // 5.0 → 5; .5 → 0.5
  if (/^-?\d+\.0+$/.test(a)) a = a.replace(/\.0+$/, "")
  if (/^\.\d+$/.test(a)) a = `0${a}`
  return a
}

/** The answer in a model's MATH completion (the Minerva prompt asks for "Final Answer: …"). */
export const mathAnswerOf = (completion: string): string | undefined => {
  const m = /Final Answer: The final answer is ([\s\S]*?)\. I hope it is correct/.exec(completion) ?? /Final Answer: The final answer is ([^\n]*)/.exec(completion)
  if (m) return m[1]!.trim()
  const boxed = lastBoxed(completion)
  if (boxed !== undefined) return boxed
  const dollars = [...completion.matchAll(/\$([^$]+)\$/g)].at(-1)
  return dollars?.[1]
}

export const mathGold = (solution: string): string | undefined => lastBoxed(solution)

const number = (s: string): string => {
  let n = s.replaceAll(",", "").replace(/^\$/, "").replace(/\.$/, "")
  if (/^-?\d+\.0+$/.test(n)) n = n.replace(/\.0+$/, "")
  return n
}

export const gsmGold = (answer: string): string | undefined => {
  const m = /####\s*(.+)\s*$/.exec(answer.trim())
  return m ? number(m[1]!.trim()) : undefined
}

export const gsmAnswerOf = (completion: string): string | undefined => {
  const m = /The answer is\s*\$?(-?[\d,]*\.?\d+)/i.exec(completion) ?? /####\s*\$?(-?[\d,]*\.?\d+)/.exec(completion)
  if (m) return number(m[1]!)
  const all = [...completion.matchAll(/-?[\d,]*\.?\d+/g)].map((x) => x[0]).filter((x) => /\d/.test(x))
  return all.length ? number(all.at(-1)!) : undefined
}

/** The most frequent answer (ties: the one seen first); undefined answers never win. */
export const majority = (answers: ReadonlyArray<string | undefined>): string | undefined => {
  const counts = new Map<string, number>()
  for (const a of answers) if (a !== undefined) counts.set(a, (counts.get(a) ?? 0) + 1)
  let best: string | undefined
  for (const [a, n] of counts) if (best === undefined || n > counts.get(best)!) best = a
  return best
}
