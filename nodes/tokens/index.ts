/**
 * mathdag/nodes/tokens: Llama-2 tokenization, the training mixture, packing, gpt-neox export, and
 * the CLI extension that adds `dag tokenize` and `dag export --format neox`.
 */
import { defineExtension } from "../../engine/extension.js"
import { tokenizeCommand } from "./cli.js"
import { neoxFormat } from "./neox.js"

export { BOS, EOS, LlamaTokenizer, llamaTokenizer, llamaTokenizerJson, llamaVocab, UNK, vocabFromTokenizerJson } from "./bpe.js"
export { makeMix } from "./mix.js"
export { exportNeox, neoxFormat, neoxTrainingConfig, readIndexedDataset, writeIndexedDataset } from "./neox.js"
export { pack, Sequence } from "./pack.js"
export { makeTokenize } from "./tokenize.js"
export { tokenizeCommand } from "./cli.js"

export const tokensExtension = defineExtension({
  name: "tokens",
  commands: [tokenizeCommand],
  commandHelp: {
    tokenize: {
      summary: "Llama-2 token ids of stdin, or text from ids (--decode)",
      examples: ["echo 'Let $x^2 = 4$.' | dag tokenize", "dag tokenize --jsonl < docs.jsonl > ids.jsonl", "echo '[3967, 29871]' | dag tokenize --decode"],
    },
  },
  exportFormats: { neox: neoxFormat },
})
