/**
 * SentencePiece itself, for id parity checks and the tokenizer benchmark: a Python with Debian's
 * python3-sentencepiece (the system python3 first: a pyenv or venv python usually lacks it).
 */
import { execFileSync } from "node:child_process"

export const sentencepiecePython = (): string | undefined => {
  for (const p of ["/usr/bin/python3", "python3"]) {
    try {
      execFileSync(p, ["-c", "import sentencepiece"], { stdio: "ignore" })
      return p
    } catch {}
  }
  return undefined
}
