/**
 * Line-level boilerplate removal with OpenWebMath's phrase scores: a line scores
 * Σ count(phrase) × words(phrase) over the phrase list; it is dropped when score / words > ratio or
 * score > absolute, unless it holds math or code. Near the end of the page (within `end` lines)
 * a boilerplate line ends the text: only math or code lines after it are kept.
 */

export interface BoilerplateConfig {
  readonly ratioThreshold: number
  readonly absoluteThreshold: number
  readonly endThreshold: number
}

export const DEFAULT_BOILERPLATE: BoilerplateConfig = { ratioThreshold: 0.18, absoluteThreshold: 10, endThreshold: 15 }

export interface Phrase {
  readonly text: string
  readonly words: number
}

export const parsePhrases = (list: string): ReadonlyArray<Phrase> =>
  list
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.length > 0)
    .map((text) => ({ text, words: text.split(/\s+/).filter(Boolean).length }))

const countOccurrences = (haystack: string, needle: string): number => {
  if (needle.length === 0) return 0
  let n = 0
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++
  return n
}

const anyPhrase = new WeakMap<ReadonlyArray<Phrase>, RegExp>()

/** One alternation of every phrase: most lines match none, and one regex test settles that. */
const prefilterOf = (phrases: ReadonlyArray<Phrase>): RegExp => {
  let re = anyPhrase.get(phrases)
  if (!re) {
    re = new RegExp(phrases.map((p) => p.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"))
    anyPhrase.set(phrases, re)
  }
  return re
}

export const boilerplateScore = (line: string, phrases: ReadonlyArray<Phrase>): { score: number; ratio: number } => {
  const lowered = line.toLowerCase()
  let score = 0
  if (phrases.length > 0 && prefilterOf(phrases).test(lowered)) for (const p of phrases) score += countOccurrences(lowered, p.text) * Math.max(1, p.words)
  const words = lowered.split(/\s+/).filter(Boolean).length
  return { score, ratio: score / (words + 0.001) }
}

export interface Line {
  readonly text: string
  readonly hasMath: boolean
  readonly hasCode: boolean
}

export const removeBoilerplate = (lines: ReadonlyArray<Line>, phrases: ReadonlyArray<Phrase>, config: BoilerplateConfig): Array<Line> => {
  const out: Array<Line> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.hasMath || line.hasCode) {
      out.push(line)
      continue
    }
    const { score, ratio } = boilerplateScore(line.text, phrases)
    if (ratio > config.ratioThreshold || score > config.absoluteThreshold) {
      if (lines.length - i < config.endThreshold) {
        for (let j = i + 1; j < lines.length; j++) if (lines[j]!.hasMath || lines[j]!.hasCode) out.push(lines[j]!)
        break
      }
      continue
    }
    out.push(line)
  }
  return out
}
