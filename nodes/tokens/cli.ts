/**
 * `dag tokenize [--bos] [--eos] [--jsonl]`: Llama-2 ids of text on stdin, one JSON array per input
 * (the whole input as one text, or one per JSON Lines row with a `text` field). For debugging what
 * tokens/tokenize does to a document; `--decode` turns id arrays back into text.
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import * as readline from "node:readline"
import { InputError } from "../../engine/errors.js"
import { llamaTokenizer } from "./bpe.js"

const readStdin = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    process.stdin.on("data", (c: Buffer) => chunks.push(c))
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    process.stdin.on("error", reject)
  })

export const tokenizeCommand = Command.make(
  "tokenize",
  {
    bos: Options.boolean("bos").pipe(Options.withDescription("start each input with <s> (id 1), e.g. dag tokenize --bos; default: no BOS, as the pipeline tokenizes")),
    eos: Options.boolean("eos").pipe(Options.withDescription("end each input with </s> (id 2), e.g. dag tokenize --eos; default: no EOS")),
    jsonl: Options.boolean("jsonl").pipe(Options.withDescription("stdin is JSON Lines: tokenize each row's `text` field, one output line per row, e.g. dag tokenize --jsonl < docs.jsonl")),
    decode: Options.boolean("decode").pipe(Options.withDescription("the reverse: stdin has one JSON id array per line; print the text of each, e.g. echo '[3967]' | dag tokenize --decode")),
  },
  (o) =>
    Effect.gen(function* () {
      const tokenizer = llamaTokenizer()
      if (o.decode || o.jsonl) {
        const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
        let n = 0
        const bad = yield* Effect.promise(async () => {
          for await (const line of rl) {
            n++
            if (!line.trim()) continue
            let value: unknown
            try {
              value = JSON.parse(line)
            } catch {
              return `line ${n} is not JSON`
            }
            if (o.decode) {
              if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v))) return `line ${n} is not an array of token ids`
              process.stdout.write(JSON.stringify(tokenizer.decode(value as Array<number>)) + "\n")
            } else {
              const text = (value as { text?: unknown } | null)?.text
              if (typeof text !== "string") return `line ${n} has no string field "text"`
              process.stdout.write(JSON.stringify(tokenizer.encode(text, { bos: o.bos, eos: o.eos })) + "\n")
            }
          }
          return undefined
        })
        if (bad) return yield* Effect.fail(new InputError({ message: `${bad}; expected ${o.decode ? "one JSON array of ids per line" : 'one JSON object with a "text" string per line'}` }))
        return
      }
      const text = yield* Effect.promise(readStdin)
      process.stdout.write(JSON.stringify(tokenizer.encode(text, { bos: o.bos, eos: o.eos })) + "\n")
    })
).pipe(Command.withDescription("Llama-2 token ids of stdin (text, or JSON Lines with --jsonl), one JSON array per input."))
