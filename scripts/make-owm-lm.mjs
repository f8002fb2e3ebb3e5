// Builds samples/owm/owm-lm.arpa, the small trigram model the embedded sample's owm/perplexity uses.
// It is trained on text the mathdag team wrote (samples/demo/*.txt), normalised as owm/perplexity
// normalises documents. Real runs bring a KenLM ARPA model: --param owm/perplexity.modelPath=FILE.
//   node scripts/make-owm-lm.mjs
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "mathdag-lm-"))
const bundle = path.join(work, "lm.cjs")
fs.writeFileSync(path.join(work, "entry.ts"), `export { buildArpa } from ${JSON.stringify(path.join(root, "nodes/owm/lm/build-arpa.ts"))}\nexport { normalizeForLm } from ${JSON.stringify(path.join(root, "nodes/owm/lm/normalize.ts"))}\n`)
await esbuild.build({ entryPoints: [path.join(work, "entry.ts")], bundle: true, platform: "node", format: "cjs", outfile: bundle, logLevel: "error" })
const { buildArpa, normalizeForLm } = (await import(pathToFileURL(bundle).href)).default
const dir = path.join(root, "samples/demo")
const text = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n")
const sentences = normalizeForLm(text.replace(/([.?!])\s+/g, "$1\n"))
const arpa = buildArpa(sentences, 3)
fs.writeFileSync(path.join(root, "samples/owm/owm-lm.arpa"), arpa)
fs.rmSync(work, { recursive: true, force: true })
console.log(`samples/owm/owm-lm.arpa: ${sentences.length} sentences, ${arpa.length} bytes`)
