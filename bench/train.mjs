// train/tiny-lm's loop with the sample profile's model (2 layers, 2 heads, width 64, context 64,
// batch 32), on windows of real text (MATH test solutions from ../shared when present, else the
// embedded arXiv sample), timed on the wasm backend and, in the same run, on the pure-JS cpu
// backend (fewer steps: it is slow). `--backend=tensorflow` adds tfjs-node-gpu where it loads.
import * as fs from "node:fs"
import * as path from "node:path"
import { at, loadTs, root } from "../scripts/lib/load-ts.mjs"

const BENCHMARKS = path.resolve(root, "..", "shared", "data", "benchmarks")

export const main = async (args) => {
  const steps = Number(args.find((a) => a.startsWith("--steps="))?.slice(8) ?? 40)
  const extra = args.find((a) => a.startsWith("--backend="))?.slice(10)
  const { trainLoop } = await loadTs(`export { trainLoop } from ${at("nodes/train/tiny-lm.ts")}`)
  const { llamaTokenizer } = await loadTs(`export { llamaTokenizer } from ${at("nodes/tokens/bpe.ts")}`)
  const tok = llamaTokenizer()
  const file = fs.existsSync(BENCHMARKS) ? path.join(BENCHMARKS, "MATH_test.jsonl") : path.join(root, "samples/arxiv/arxiv-sample.jsonl")
  const texts = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).slice(0, 2000).map((l) => { const r = JSON.parse(l); return r.solution ?? r.text })
  const stream = texts.flatMap((t) => tok.encode(t))
  const windows = []
  for (let i = 0; i + 65 <= stream.length && windows.length < 4096; i += 64) windows.push(stream.slice(i, i + 65))
  const params = { layers: 2, heads: 2, width: 64, context: 0, batch: 32, steps, learningRate: 3e-3, vocab: 512, seed: 1, checkpointEvery: 1_000_000, backend: "wasm" }
  const time = async (backend, n) => {
    // a fresh process would be cleaner; one backend per call is set once, so run each in a child
    const { execFileSync } = await import("node:child_process")
    const out = execFileSync(process.execPath, [path.join(root, "bench/train.mjs"), "--child", backend, String(n)], { input: JSON.stringify({ windows, params }), maxBuffer: 1 << 26 }).toString().trim().split("\n").at(-1)
    return JSON.parse(out)
  }
  console.log(`windows: ${windows.length} of 65 tokens from ${path.basename(file)}; model: 2 layers, 2 heads, width 64, context 64, batch 32, compact vocabulary 512 (the sample's is 434 ids)`)
  const wasm = await time("wasm", steps)
  console.log(`wasm: ${wasm.tokensPerS.toFixed(0)} tokens/s (${steps} steps, backend ${wasm.backend}, final loss ${wasm.finalLoss.toFixed(3)})`)
  const cpu = await time("cpu", Math.max(2, Math.floor(steps / 10)))
  console.log(`cpu: ${cpu.tokensPerS.toFixed(0)} tokens/s (${Math.max(2, Math.floor(steps / 10))} steps, backend ${cpu.backend})`)
  let line = `BENCH train tokens_per_s=${wasm.tokensPerS.toFixed(0)} cpu_tokens_per_s=${cpu.tokensPerS.toFixed(0)}`
  // PyTorch on the CPU: the same windows (ids mapped into the same 512-id compact vocabulary), the same
  // sizes (its blocks are Llama's: RMSNorm, SwiGLU, rotary), through trainers/torch
  const { resolvePython } = await loadTs(`export { resolvePython } from ${at("nodes/train/torch.ts")}`)
  const py = resolvePython("auto")
  if ("python" in py) {
    const { execFileSync } = await import("node:child_process")
    const freq = new Map()
    for (const w of windows) for (const id of w) freq.set(id, (freq.get(id) ?? 0) + 1)
    const compact = new Map([...freq].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 511).map(([id], i) => [id, i]))
    const dir = fs.mkdtempSync(path.join((await import("node:os")).tmpdir(), "mathdag-bench-torch-"))
    const file = path.join(dir, "windows.i32")
    fs.writeFileSync(file, Buffer.from(Int32Array.from(windows.flat().map((id) => compact.get(id) ?? 511)).buffer))
    const out = execFileSync(py.python, [path.join(root, "trainers/torch/mathdag_train.py"), "--windows", file, "--out", path.join(dir, "out"), "--seq-len", "64", "--vocab", "512", "--layers", "2", "--heads", "2", "--width", "64", "--batch", "32", "--steps", String(steps), "--lr", "3e-3", "--warmup", "4", "--device", "cpu"], { maxBuffer: 1 << 26 }).toString()
    const done = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((e) => e.event === "done")
    fs.rmSync(dir, { recursive: true, force: true })
    console.log(`torch cpu: ${done.tokens_per_s.toFixed(0)} tokens/s (${steps} steps, final loss ${done.loss.toFixed(3)})`)
    line += ` torch_cpu_tokens_per_s=${done.tokens_per_s.toFixed(0)}`
  } else console.log(`torch: not measured (${py.problem})`)
  if (extra) {
    try {
      const other = await time(extra, steps)
      console.log(`${extra}: ${other.tokensPerS.toFixed(0)} tokens/s (backend ${other.backend})`)
      line += ` ${extra}_tokens_per_s=${other.tokensPerS.toFixed(0)} ${extra}_backend=${JSON.stringify(other.backend)}`
    } catch (e) {
      console.log(`${extra}: did not run (${String(e.message).split("\n").slice(-3).join(" ")})`)
    }
  }
  console.log(line)
}

// child: train on stdin's windows with one backend and print {tokensPerS, backend, finalLoss}
if (process.argv[2] === "--child") {
  const [backend, steps] = [process.argv[3], Number(process.argv[4])]
  const input = JSON.parse(fs.readFileSync(0, "utf8"))
  const { trainLoop } = await loadTs(`export { trainLoop } from ${at("nodes/train/tiny-lm.ts")}`)
  const r = await trainLoop({ windows: input.windows, params: { ...input.params, backend, steps } })
  console.log(JSON.stringify({ tokensPerS: r.tokens / r.seconds, backend: r.backend, finalLoss: r.finalLoss }))
}
