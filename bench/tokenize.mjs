// tokens/tokenize's encoder on MATH-like text, one core: MB/s next to SentencePiece 0.1.97 (Debian's
// python3-sentencepiece, same Llama-2 model, timed around encode() only) and llama-tokenizer-js, all
// in the same run, plus the number of id mismatches against each. The text: MATH test problems and
// solutions from ../shared/data/benchmarks when present, else the embedded samples.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { at, loadTs, root } from "../scripts/lib/load-ts.mjs"

const MODEL = path.resolve(root, "..", "shared", "data", "tokenizer", "llama2-tokenizer.model")
const BENCHMARKS = path.resolve(root, "..", "shared", "data", "benchmarks")

const texts = () => {
  const files = fs.existsSync(BENCHMARKS)
    ? [path.join(BENCHMARKS, "MATH_test.jsonl")]
    : ["samples/overlap/math-test-sample.jsonl", "samples/arxiv/arxiv-sample.jsonl"].map((f) => path.join(root, f))
  const out = []
  for (const f of files)
    for (const line of fs.readFileSync(f, "utf8").split("\n")) {
      if (!line.trim()) continue
      const row = JSON.parse(line)
      for (const k of ["problem", "solution", "text"]) if (typeof row[k] === "string") out.push(row[k])
    }
  return out
}

export const main = async (args) => {
  const target = Number(args.find((a) => a.startsWith("--mb="))?.slice(5) ?? 4) * 1e6
  const base = texts()
  const corpus = []
  for (let bytes = 0, i = 0; bytes < target; i++) {
    const t = base[i % base.length]
    corpus.push(t)
    bytes += Buffer.byteLength(t)
  }
  const mb = corpus.reduce((a, t) => a + Buffer.byteLength(t), 0) / 1e6
  const { LlamaTokenizer } = await loadTs(`export { LlamaTokenizer } from ${at("nodes/tokens/bpe.ts")}`)
  const ours = new LlamaTokenizer()
  ours.encode(base[0]) // tables built before timing
  let t = performance.now()
  const ids = corpus.map((s) => ours.encode(s))
  const oursS = (performance.now() - t) / 1000

  const ref = (await import(path.join(root, "node_modules/llama-tokenizer-js/llama-tokenizer.js"))).default
  const slice = corpus.slice(0, Math.max(1, Math.floor(corpus.length / 8))) // it is slow: time an eighth
  const sliceMb = slice.reduce((a, s) => a + Buffer.byteLength(s), 0) / 1e6
  t = performance.now()
  const refIds = slice.map((s) => ref.encode(s, false))
  const refS = (performance.now() - t) / 1000
  let jsMismatches = 0
  refIds.forEach((r, i) => (JSON.stringify(r) !== JSON.stringify(ids[i]) ? jsMismatches++ : 0))

  let spMbs = NaN
  let spMismatches = NaN
  const { sentencepiecePython } = await loadTs(`export { sentencepiecePython } from ${at("nodes/tokens/sentencepiece.ts")}`)
  const py = sentencepiecePython()
  if (py && fs.existsSync(MODEL)) {
    const input = corpus.map((s) => JSON.stringify(s)).join("\n") + "\n"
    const timing = JSON.parse(execFileSync(py, [path.join(root, "scripts/sentencepiece-encode.py"), MODEL, "--time"], { input, maxBuffer: 1 << 30 }).toString())
    spMbs = timing.bytes / 1e6 / timing.seconds
    const spIds = execFileSync(py, [path.join(root, "scripts/sentencepiece-encode.py"), MODEL], { input, maxBuffer: 1 << 30 }).toString().trim().split("\n")
    spMismatches = spIds.filter((l, i) => JSON.stringify(JSON.parse(l)) !== JSON.stringify(ids[i])).length
  } else console.log("python3-sentencepiece or ../shared/data/tokenizer missing: the SentencePiece columns are NaN")

  const ourMbs = mb / oursS
  console.log(`text: ${corpus.length} strings, ${mb.toFixed(1)} MB (${fs.existsSync(BENCHMARKS) ? "MATH test problems and solutions" : "embedded samples"})`)
  console.log(`ours ${ourMbs.toFixed(2)} MB/s · SentencePiece ${spMbs.toFixed(2)} MB/s (${spMismatches} mismatches) · llama-tokenizer-js ${(sliceMb / refS).toFixed(2)} MB/s on an eighth (${jsMismatches} mismatches)`)
  const mismatches = (Number.isNaN(spMismatches) ? 0 : spMismatches) + jsMismatches
  console.log(`BENCH tokenize mb_per_s=${ourMbs.toFixed(2)} sentencepiece_mb_per_s=${spMbs.toFixed(2)} llama_tokenizer_js_mb_per_s=${(sliceMb / refS).toFixed(2)} id_mismatches=${mismatches}`)
}
