/**
 * The text an OpenWebMath perplexity model sees: math replaced by the [EQUATION] token, lowercase,
 * accents stripped, every digit 0, punctuation split from words.
 */
export const EQUATION = "[EQUATION]"

export const normalizeForLm = (text: string): Array<Array<string>> =>
  text
    .replace(/\$\$[\s\S]*?\$\$/g, ` ${EQUATION} `)
    .replace(/(?<!\\)\$[^$\n]*?(?<!\\)\$/g, ` ${EQUATION} `)
    .split(/\n+/)
    .map((line) =>
      line
        .toLowerCase()
        .normalize("NFD")
        .replace(/[\u0300-\u036f]/g, "")
        .replace(/\d/g, "0")
        .replace(/\[equation\]/g, EQUATION)
        .replace(/([^\p{L}\p{N}\s[\]])/gu, " $1 ")
        .split(/\s+/)
        .filter(Boolean)
    )
    .filter((tokens) => tokens.length > 0)
