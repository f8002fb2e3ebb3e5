// Builds samples/owm/owm-lm.arpa, the small trigram model the embedded sample's owm/perplexity uses.
// It is trained on text the mathdag team wrote (samples/demo/*.txt), normalised as owm/perplexity
// normalises documents. Real runs bring a KenLM ARPA model: --param owm/perplexity.modelPath=FILE.
//   node scripts/make-owm-lm.mjs
import * as fs from "node:fs"
import * as path from "node:path"
import { at, loadTs, root } from "./lib/load-ts.mjs"

const { buildArpa, normalizeForLm } = await loadTs(`export { buildArpa } from ${at("nodes/owm/lm/build-arpa.ts")}\nexport { normalizeForLm } from ${at("nodes/owm/lm/normalize.ts")}\n`)
const dir = path.join(root, "samples/demo")
const text = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n")
const sentences = normalizeForLm(text.replace(/([.?!])\s+/g, "$1\n"))
const arpa = buildArpa(sentences, 3)
fs.writeFileSync(path.join(root, "samples/owm/owm-lm.arpa"), arpa)
console.log(`samples/owm/owm-lm.arpa: ${sentences.length} sentences, ${arpa.length} bytes`)
