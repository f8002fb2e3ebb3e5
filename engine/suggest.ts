/** "Did you mean": the closest known name by edit distance, when it is close enough to be a typo. */

/** Levenshtein distance (insertions, deletions, substitutions), two rows at a time. */
export const editDistance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}

/** The known name nearest to `name`, if within a third of its length (at least 2 edits). */
export const suggest = (name: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

/** `; did you mean "X"?` when a known name is close to `name`, else nothing. */
export const didYouMean = (name: string, known: ReadonlyArray<string>): string => {
  const hit = suggest(name, known)
  return hit ? `; did you mean "${hit}"?` : ""
}
