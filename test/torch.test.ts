/**
 * The PyTorch trainer (trainers/torch) and the train/torch node. Needs python3 with torch (CI
 * installs Debian's python3-torch); without it these tests skip, except in CI where they fail.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { completeRemote, EndpointError, postCompletions, scoreRemote } from "../nodes/eval/endpoint.js"
import { SERVE_SCRIPT } from "../nodes/eval/model.js"
import { llamaTokenizer, llamaTokenizerJson } from "../nodes/tokens/bpe.js"
import { resolvePython, TORCH_SCRIPT } from "../nodes/train/torch.js"
import { dag, dagAwait, ROOT, sandbox, spawnAwait, summary, tempDir } from "./helpers.js"

const found = resolvePython("auto")
const hasTorch = "python" in found
const python = "python" in found ? found.python : "python3"
if (!hasTorch && process.env.CI) throw new Error("python3 with torch is required in CI (apt-get install python3-torch)")
const withTorch = hasTorch ? describe : describe.skip

/** Reads a safetensors file by the format's definition: u64 header length, JSON header, raw data. */
const readSafetensors = (file: string) => {
  const buf = fs.readFileSync(file)
  const len = Number(buf.readBigUInt64LE(0))
  const header = JSON.parse(buf.subarray(8, 8 + len).toString("utf8")) as Record<string, { dtype: string; shape: Array<number>; data_offsets: [number, number] }>
  const dataBytes = buf.length - 8 - len
  return { header, dataBytes }
}

/** Windows of 17 ids (seq_len 16) with a learnable pattern: counting up modulo 50. */
const writeWindows = (dir: string, count = 64) => {
  const ids = new Int32Array(count * 17)
  for (let w = 0; w < count; w++) for (let i = 0; i < 17; i++) ids[w * 17 + i] = (w * 7 + i) % 50
  const file = path.join(dir, "windows.i32")
  fs.writeFileSync(file, Buffer.from(ids.buffer))
  return file
}

const script = path.join(ROOT, TORCH_SCRIPT)
const baseArgs = (dir: string, windows: string, extra: Array<string> = []) => [
  "-u",
  script,
  "--windows",
  windows,
  "--seq-len",
  "16",
  "--vocab",
  "64",
  "--layers",
  "2",
  "--heads",
  "2",
  "--width",
  "32",
  "--batch",
  "8",
  "--steps",
  "40",
  "--lr",
  "0.01",
  "--warmup",
  "4",
  "--device",
  "cpu",
  "--threads",
  "1",
  "--seed",
  "3",
  ...extra,
]
const events = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

withTorch("PyTorch trainer script", () => {
  it("learns (loss goes down) and writes a safetensors file under LlamaForCausalLM names, shapes and dtypes", async () => {
    const dir = tempDir("torch-train")
    const out = path.join(dir, "out")
    const r = await spawnAwait(python, baseArgs(dir, writeWindows(dir), ["--out", out]), { timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    const steps = events(r.stdout).filter((e) => e.event === "step")
    expect(steps.length).toBe(40)
    expect(Number(steps.at(-1)!.loss)).toBeLessThan(Number(steps[0]!.loss) * 0.6)
    const config = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"))
    expect(config).toMatchObject({ architectures: ["LlamaForCausalLM"], model_type: "llama", vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2 })
    const { header, dataBytes } = readSafetensors(path.join(out, "model.safetensors"))
    const ffn = config.intermediate_size as number
    expect(header["model.embed_tokens.weight"]).toMatchObject({ dtype: "F32", shape: [64, 32] })
    expect(header["lm_head.weight"]).toMatchObject({ dtype: "F32", shape: [64, 32] })
    expect(header["model.layers.1.self_attn.q_proj.weight"]).toMatchObject({ dtype: "F32", shape: [32, 32] })
    expect(header["model.layers.0.mlp.gate_proj.weight"]).toMatchObject({ dtype: "F32", shape: [ffn, 32] })
    expect(header["model.layers.0.mlp.down_proj.weight"]).toMatchObject({ dtype: "F32", shape: [32, ffn] })
    expect(header["model.norm.weight"]).toMatchObject({ dtype: "F32", shape: [32] })
    // offsets tile the data section exactly, 4 bytes per float32
    const tensors = Object.entries(header).filter(([k]) => k !== "__metadata__")
    expect(tensors.length).toBe(3 + 2 * 9)
    let end = 0
    for (const [, t] of tensors.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
      expect(t.data_offsets[0]).toBe(end)
      expect(t.data_offsets[1] - t.data_offsets[0]).toBe(4 * t.shape.reduce((a, b) => a * b, 1))
      end = t.data_offsets[1]
    }
    expect(end).toBe(dataBytes)
  }, 180_000)

  it("SIGINT stops within 2 s with a checkpoint; the resumed run ends with the same weights, bit for bit", async () => {
    const dir = tempDir("torch-resume")
    const windows = writeWindows(dir)
    const whole = await spawnAwait(python, baseArgs(dir, windows, ["--out", path.join(dir, "whole")]), { timeout: 120_000 })
    expect(whole.status, whole.stderr).toBe(0)
    const ckpt = path.join(dir, "ckpt.pt")
    const split = ["--out", path.join(dir, "split"), "--checkpoint", ckpt, "--key", "k1", "--checkpoint-every", "5"]
    const child = spawn(python, baseArgs(dir, windows, split), { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    let sent = 0
    child.stdout.on("data", (d) => {
      stdout += d
      if (!sent && /"event": "checkpoint"/.test(stdout)) {
        sent = Date.now()
        child.kill("SIGINT")
      }
    })
    expect(await exited).toBe(130)
    expect(Date.now() - sent).toBeLessThan(2000)
    const stoppedAt = Number(events(stdout).find((e) => e.event === "interrupted")!.step)
    expect(stoppedAt).toBeGreaterThanOrEqual(5)
    expect(stoppedAt).toBeLessThan(40)
    const resumed = await spawnAwait(python, baseArgs(dir, windows, split), { timeout: 120_000 })
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain(`resuming from the checkpoint of step ${stoppedAt}`)
    const a = readSafetensors(path.join(dir, "whole", "model.safetensors"))
    const b = readSafetensors(path.join(dir, "split", "model.safetensors"))
    const body = (file: string, h: number) => fs.readFileSync(file).subarray(8 + h)
    const ha = Number(fs.readFileSync(path.join(dir, "whole", "model.safetensors")).readBigUInt64LE(0))
    const hb = Number(fs.readFileSync(path.join(dir, "split", "model.safetensors")).readBigUInt64LE(0))
    expect(a.dataBytes).toBe(b.dataBytes)
    expect(body(path.join(dir, "split", "model.safetensors"), hb).equals(body(path.join(dir, "whole", "model.safetensors"), ha))).toBe(true)
    // the loss curve is whole too
    expect(JSON.parse(fs.readFileSync(path.join(dir, "split", "losses.json"), "utf8"))).toEqual(JSON.parse(fs.readFileSync(path.join(dir, "whole", "losses.json"), "utf8")))
  }, 240_000)

  it("a checkpoint made for another key is discarded with a note", async () => {
    const dir = tempDir("torch-foreign")
    const windows = writeWindows(dir)
    const ckpt = path.join(dir, "ckpt.pt")
    const first = await spawnAwait(python, baseArgs(dir, windows, ["--out", path.join(dir, "a"), "--checkpoint", ckpt, "--key", "key-a", "--checkpoint-every", "5", "--steps", "12"]), {
      timeout: 120_000,
    })
    expect(first.status, first.stderr).toBe(0)
    expect(fs.existsSync(ckpt)).toBe(true)
    const second = await spawnAwait(python, baseArgs(dir, windows, ["--out", path.join(dir, "b"), "--checkpoint", ckpt, "--key", "key-b", "--steps", "12"]), { timeout: 120_000 })
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/discarded the checkpoint .* made for another cache key/)
    expect(second.stdout).not.toMatch(/resuming/)
  }, 180_000)
})

/** Starts the model server on a free port; resolves with its base URL and a stop function. */
const serve = async (args: Array<string>) => {
  const child = spawn(python, ["-u", path.join(ROOT, SERVE_SCRIPT), "--port", "0", "--device", "cpu", ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let err = ""
  child.stderr.on("data", (d) => (err += d))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ""
    child.stdout.on("data", (d) => {
      out += d
      const line = out.split("\n").find((l) => l.includes('"serving"'))
      if (line) resolve((JSON.parse(line) as { port: number }).port)
    })
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)))
  })
  return { url: `http://127.0.0.1:${port}/v1`, stop: () => new Promise<void>((done) => (child.once("exit", () => done()), child.kill("SIGTERM"))) }
}

withTorch("the PyTorch model served on 127.0.0.1 (OpenAI-compatible completions)", () => {
  const TEXT = "The sum of the first n odd numbers is n squared: 1 + 3 + 5 + 7 = 16, and in general $\\sum_{k=1}^{n} (2k-1) = n^2$."
  it("scores, generates and tokenizes as the engine does; a model trained on a text continues it", async () => {
    const dir = tempDir("torch-serve")
    const tok = llamaTokenizer()
    // windows of the text's ids, repeated: a model that learns them continues the text greedily
    const ids = tok.encode(TEXT)
    const stream = Array.from({ length: 40 }, () => ids).flat()
    const seq = 16
    const windows: Array<Array<number>> = []
    for (let i = 0; i + seq + 1 <= stream.length; i += 3) windows.push(stream.slice(i, i + seq + 1))
    fs.writeFileSync(path.join(dir, "windows.i32"), Buffer.from(Int32Array.from(windows.flat()).buffer))
    const out = path.join(dir, "model")
    const train = await spawnAwait(
      python,
      [
        "-u",
        path.join(ROOT, TORCH_SCRIPT),
        "--windows",
        path.join(dir, "windows.i32"),
        "--out",
        out,
        "--seq-len",
        String(seq),
        "--vocab",
        "32000",
        "--layers",
        "2",
        "--heads",
        "2",
        "--width",
        "32",
        "--batch",
        "16",
        "--steps",
        "80",
        "--lr",
        "0.02",
        "--warmup",
        "5",
        "--device",
        "cpu",
        "--threads",
        "1",
      ],
      { timeout: 180_000 }
    )
    expect(train.status, train.stderr).toBe(0)
    fs.writeFileSync(path.join(out, "tokenizer.json"), JSON.stringify(llamaTokenizerJson()))
    const server = await serve(["--model", out, "--threads", "1"])
    try {
      const opts = { timeoutMs: 60_000 }
      // the server's own tokenizer (text prompts) agrees with the engine's, id for id
      for (const text of [TEXT, "  two  spaces, tabs\tand ünïcödé — ∑ 𝔽 😀", "def f(x):\n    return x**2  # код"]) {
        const body = (await postCompletions(server.url, { prompt: text, max_tokens: 0, echo: true, logprobs: 0 }, opts)) as { choices: Array<{ logprobs: { tokens: Array<string> } }> }
        expect(body.choices[0]!.logprobs.tokens, text).toEqual(tok.encode(text).map((i) => tok.vocab.pieces[i]))
      }
      // perplexity over HTTP: the learnt text is far likelier than the same ids reversed
      const learnt = await scoreRemote(server.url, "m", [ids.slice(0, seq + 1)], opts)
      const reversed = await scoreRemote(server.url, "m", [ids.slice(0, seq + 1).reverse()], opts)
      expect(learnt.tokens).toBe(seq)
      expect(learnt.nll / learnt.tokens).toBeLessThan(1)
      expect(reversed.nll / reversed.tokens).toBeGreaterThan(3 * (learnt.nll / learnt.tokens))
      // scores do not depend on what else is in the batch
      const batched = await scoreRemote(server.url, "m", [ids.slice(0, seq + 1), ids.slice(2, seq + 3), ids.slice(0, 5)], opts)
      const alone = await Promise.all([ids.slice(0, seq + 1), ids.slice(2, seq + 3), ids.slice(0, 5)].map((w) => scoreRemote(server.url, "m", [w], opts)))
      expect(batched.nll).toBeCloseTo(
        alone.reduce((a, b) => a + b.nll, 0),
        3
      )
      // greedy generation from token ids continues the text; stop strings cut it
      const [greedy] = await completeRemote(server.url, "m", ids.slice(0, 8), 1, { ...opts, maxTokens: 8, temperature: 0, stop: [] })
      expect(greedy!.trim().length).toBeGreaterThan(8)
      expect(TEXT.replace(/\s+/g, " ")).toContain((tok.decode(ids.slice(0, 8)) + greedy!).replace(/\s+/g, " ").trim())
      const [cut] = await completeRemote(server.url, "m", ids.slice(0, 8), 1, { ...opts, maxTokens: 12, temperature: 0, stop: ["+"] })
      expect(cut).not.toContain("+")
      // sampling is repeatable with a seed, and n completions come back
      const a = await completeRemote(server.url, "m", "The sum", 3, { ...opts, maxTokens: 6, temperature: 1.5, stop: [], seed: 7 })
      const b = await completeRemote(server.url, "m", "The sum", 3, { ...opts, maxTokens: 6, temperature: 1.5, stop: [], seed: 7 })
      expect(a.length).toBe(3)
      expect(a).toEqual(b)
      // a bad request is a 400 that says why, and the server keeps serving
      const bad = await postCompletions(server.url, { prompt: [1, 99999], max_tokens: 1 }, opts).then(
        () => undefined,
        (e: EndpointError) => e
      )
      expect(bad).toBeInstanceOf(EndpointError)
      expect(bad!.message).toMatch(/HTTP 400: token ids must be in \[0, 32000\)/)
      expect(bad!.transient).toBe(false)
      expect((await scoreRemote(server.url, "m", [ids.slice(0, 4)], opts)).tokens).toBe(3)
    } finally {
      await server.stop()
    }
  }, 300_000)
})

withTorch("train/torch in the pipeline (--profile torch)", () => {
  it("trains on the sample's packed windows and evaluates that model: loss, perplexity and accuracy in views; a transformers-shaped export", async () => {
    const box = sandbox("torch-pipeline")
    const small = ["--param", "train/torch.steps=12", "--param", "train/torch.batch=4", "--param", "train/torch.width=64"]
    const r = await dagAwait(box, ["run", "proof-pile-2", "--profile", "torch", "--select", "eval/perplexity", "--select", "eval/math", "--param", "eval/math.limit=2", ...small, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const nodes = summary(r).nodes
    expect(nodes.find((n) => n.node === "train/torch")!.status).toBe("computed")
    const loss = dag(box, ["sql", "select count(*) as n, arg_min(loss, step) as first, arg_max(loss, step) as last from train_torch__loss", "--format", "json"])
    expect(loss.code, loss.stderr).toBe(0)
    const [row] = JSON.parse(loss.stdout) as Array<{ n: number; first: number; last: number }>
    expect(row!.n).toBe(12)
    expect(row!.last).toBeLessThan(row!.first)
    // the evaluation nodes scored the PyTorch model (served on 127.0.0.1 for the node's lifetime)
    const ppl = JSON.parse(dag(box, ["sql", "select subset, model, tokens, perplexity from eval_perplexity order by subset", "--format", "json"]).stdout) as Array<{
      model: string
      tokens: number
      perplexity: number | null
    }>
    expect(ppl.length).toBe(3)
    expect(ppl.every((p) => p.model === "train/torch (PyTorch on cpu)")).toBe(true)
    const scored = ppl.filter((p) => p.tokens > 0)
    expect(scored.length).toBeGreaterThan(0)
    // better than uniform over 32,000 ids, worse than perfect: a real, briefly trained model
    for (const p of scored) expect(p.perplexity!).toBeGreaterThan(1)
    for (const p of scored) expect(p.perplexity!).toBeLessThan(32_000)
    const acc = JSON.parse(dag(box, ["sql", "select test_set, model, examples from eval_math__summary order by test_set", "--format", "json"]).stdout) as Array<{
      test_set: string
      model: string
      examples: number
    }>
    expect(acc).toEqual([
      { test_set: "GSM8k", model: "train/torch (PyTorch on cpu)", examples: 2 },
      { test_set: "MATH", model: "train/torch (PyTorch on cpu)", examples: 2 },
    ])
    expect(spawnSync("pgrep", ["-f", SERVE_SCRIPT]).status).toBe(1) // the server is gone
    // the TensorFlow.js model was not trained in this profile
    expect(nodes.find((n) => n.node === "train/tiny-lm")!.rows.out).toBe(0)
    // exported under the names transformers' from_pretrained(DIR) reads
    const out = path.join(box.dir, "export")
    expect(dag(box, ["export", "train/torch", "--out", out]).code).toBe(0)
    expect(
      fs
        .readdirSync(out)
        .filter((f) => !f.endsWith(".parquet"))
        .sort()
    ).toEqual(["config.json", "model.safetensors", "tokenizer.json"])
    expect(readSafetensors(path.join(out, "model.safetensors")).header["model.embed_tokens.weight"]!.shape).toEqual([32000, 64])
    expect(JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"))).toMatchObject({ model_type: "llama", hidden_size: 64, max_position_embeddings: 64 })
    expect(JSON.parse(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8")).model.type).toBe("BPE")
  }, 400_000)

  it("evaluating the PyTorch model while train/torch is off says what to do", async () => {
    const box = sandbox("torch-eval-off")
    const r = await dagAwait(box, ["run", "proof-pile-2", "--select", "eval/perplexity", "--param", "eval/perplexity.trainer=torch", "--param", "train/tiny-lm.steps=2"])
    expect(r.code).toBe(1)
    expect(r.stderr + r.stdout).toMatch(/train\/torch is disabled in this run, so there is no PyTorch model to evaluate; use --profile torch/)
  }, 300_000)
})

describe("train/torch without PyTorch", () => {
  it("the torch profile fails before anything runs, with one line naming what to install (exit 2)", () => {
    const box = sandbox("torch-missing")
    const r = dag(box, ["run", "proof-pile-2", "--profile", "torch", "--param", "train/torch.python=/no/such/python3"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/train\/torch needs PyTorch: \/no\/such\/python3 was not found; install PyTorch \(Debian\/Ubuntu: apt-get install python3-torch/)
    expect(fs.existsSync(box.runs) ? fs.readdirSync(box.runs) : []).toEqual([]) // nothing ran
  })

  it("the default profile does not need Python: train/torch is off", () => {
    const box = sandbox("torch-off")
    const r = dag(box, ["run", "proof-pile-2", "--dry-run", "--param", "train/torch.python=/no/such/python3"])
    expect(r.code, r.stderr).toBe(0)
  })
})
