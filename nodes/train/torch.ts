/**
 * train/torch: a Llama-style decoder (RMSNorm, SwiGLU, rotary embeddings, no biases) trained with
 * PyTorch on the packed windows, by the script in trainers/torch/ (PyTorch only, no other Python
 * package). CUDA when PyTorch sees a GPU (bf16 autocast), else the CPU (fp32, deterministic).
 *
 * The engine side: the windows go to the script as one int32 file; each step comes back as a JSON
 * line (progress in the journal, the loss curve as a dataset); Ctrl-C reaches the script, which
 * writes a checkpoint stamped with this node's cache key and stops; only a checkpoint with the same
 * stamp is resumed. Outputs: the weights as safetensors under transformers' LlamaForCausalLM names,
 * and its config.json.
 *
 * Off unless `enabled` (the `torch` profile turns it on), so the default pipeline needs no Python;
 * when enabled, a missing python3 or torch fails when params are resolved, before anything runs.
 */
import { Effect, Schema } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import { packageRoot } from "../../engine/paths.js"
import * as Cell from "../../engine/report/cell.js"
import { llamaTokenizerJson } from "../tokens/bpe.js"
import { Sequence } from "../tokens/pack.js"
import { LossRow } from "./tiny-lm.js"

export const TORCH_SCRIPT = "trainers/torch/mathdag_train.py"
const INSTALL = "install PyTorch (Debian/Ubuntu: apt-get install python3-torch; elsewhere: pip install torch) or point train/torch.python at a Python that has it"

const torchChecks = new Map<string, string | true>()

const checkPython = (python: string): string | true => {
  const known = torchChecks.get(python)
  if (known !== undefined) return known
  const r = spawnSync(python, ["-c", "import torch, sys; sys.stdout.write(torch.__version__)"], { encoding: "utf8", timeout: 60_000 })
  const verdict: string | true =
    r.error && (r.error as { code?: string }).code === "ENOENT"
      ? `${python} was not found`
      : r.status !== 0
        ? `\`${python} -c "import torch"\` failed (${(r.stderr || String(r.error ?? "")).trim().split("\n").pop()})`
        : true
  torchChecks.set(python, verdict)
  return verdict
}

/** Where `auto` looks: the first python3 on PATH, then the system's (where Debian's python3-torch goes). */
const AUTO_PYTHONS = ["python3", "/usr/bin/python3"]

/** The Python that will run the trainer: `python`, or for `auto` the first candidate that imports torch. */
export const resolvePython = (python: string): { python: string } | { problem: string } => {
  const candidates = python === "auto" ? AUTO_PYTHONS : [python]
  const problems: Array<string> = []
  for (const c of candidates) {
    const v = checkPython(c)
    if (v === true) return { python: c }
    problems.push(v)
  }
  return { problem: `train/torch needs PyTorch: ${problems.join("; ")}; ${INSTALL}` }
}

/** Whether the trainer can run: true, or one line saying what to install. */
export const torchAvailable = (python: string): string | true => {
  const r = resolvePython(python)
  return "python" in r ? true : r.problem
}

export const TorchParams = Schema.Struct({
  /** off by default: the `torch` profile (`--profile torch`) turns it on */
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** the Python with torch; auto: python3 on PATH, else /usr/bin/python3 */
  python: Schema.optionalWith(Schema.String.pipe(Schema.nonEmptyString()), { default: () => "auto" }),
  device: Schema.optionalWith(Schema.Literal("auto", "cuda", "cpu"), { default: () => "auto" as const }),
  layers: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 2 }),
  heads: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 4 }),
  width: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 128 }),
  /** SwiGLU hidden size; 0: ⅔ of 4 × width, rounded down to a multiple of 8 (as Llama) */
  ffn: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
  /** Llama-2's vocabulary: ids are used as they are */
  vocab: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 32_000 }),
  batch: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 8 }),
  /** micro-batches per optimiser step (gradient accumulation) */
  accumulate: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  steps: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 200 }),
  learningRate: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1e-3 }),
  minLearningRate: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 1e-4 }),
  warmup: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 10 }),
  weightDecay: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { default: () => 0.1 }),
  clip: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 1 }),
  seed: Schema.optionalWith(Schema.Int, { default: () => 1 }),
  checkpointEvery: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 50 }),
  /** CPU threads for PyTorch; 0: all cores */
  threads: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 }),
}).pipe(Schema.filter((p) => (p.enabled ? torchAvailable(p.python) : true)))
export type TorchParams = Schema.Schema.Type<typeof TorchParams>

export const TorchSummary = Schema.Struct({
  device: Schema.String,
  steps: Schema.Int,
  tokens: Schema.Int,
  final_loss: Schema.NullOr(Schema.Number),
  parameters: Schema.Int,
  seq_len: Schema.Int,
})

/** An empty but valid safetensors file (the disabled node's model). */
const emptySafetensors = (): Buffer => {
  const header = Buffer.from("{}      ") // padded to 8 bytes
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(header.length))
  return Buffer.concat([len, header])
}

interface Run {
  readonly lastStep: number
  readonly stderr: string
}

/** Runs the script, feeding each JSON line to `onEvent`; Ctrl-C (interruption) reaches it as SIGINT. */
const runScript = (python: string, args: ReadonlyArray<string>, onEvent: (e: Record<string, unknown>) => void): Effect.Effect<Run, NodeRunError> =>
  Effect.async<Run, NodeRunError>((resume) => {
    const child = spawn(python, ["-u", path.join(packageRoot(), TORCH_SCRIPT), ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let buffer = ""
    let stderr = ""
    let lastStep = 0
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim()
        buffer = buffer.slice(nl + 1)
        if (!line.startsWith("{")) continue
        try {
          const e = JSON.parse(line) as Record<string, unknown>
          if (e.event === "step") lastStep = Number(e.step)
          onEvent(e)
        } catch {
          // a stray line from a library; not ours
        }
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000)
    })
    child.on("error", (e) => resume(Effect.fail(new NodeRunError({ node: "train/torch", message: `could not start ${python}: ${e.message}; ${INSTALL}`, transient: false }))))
    child.on("exit", (code, signal) => {
      if (code === 0) return resume(Effect.succeed({ lastStep, stderr }))
      const why =
        stderr
          .trim()
          .split("\n")
          .filter((l) => l.trim() !== "")
          .slice(-3)
          .join(" | ") || `exit code ${code ?? signal}`
      resume(Effect.fail(new NodeRunError({ node: "train/torch", message: `the PyTorch trainer failed after step ${lastStep}: ${why}`, transient: false })))
    })
    // Interrupted: the script finishes its step, writes a checkpoint and exits; killed if it hangs.
    return Effect.promise(
      () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done()
          const hard = setTimeout(() => child.kill("SIGKILL"), 1800)
          child.once("exit", () => (clearTimeout(hard), done()))
          child.kill("SIGINT")
        })
    )
  })

export const torchTrain = Node.global({
  name: "train/torch",
  version: 2,
  description: "A Llama-style decoder trained with PyTorch on the packed windows (CUDA when available); weights as safetensors with a transformers config.",
  inputs: { sequences: Node.Dataset(Sequence) },
  // `dag export train/torch --out DIR` gives DIR the names transformers' from_pretrained(DIR) reads
  outputs: {
    model: Node.File("safetensors", { fileName: "model.safetensors" }),
    config: Node.File("json", { fileName: "config.json" }),
    tokenizer: Node.File("json", { fileName: "tokenizer.json" }),
    loss: Node.Dataset(LossRow),
    summary: Node.Dataset(TorchSummary),
  },
  params: TorchParams,
  externals: () => [TORCH_SCRIPT],
  report: [
    Cell.line("Training loss (PyTorch)", "SELECT step, loss FROM self_loss ORDER BY step", { x: "step", y: "loss", yLabel: "cross-entropy (nats)" }),
    Cell.table("PyTorch training run", "SELECT device, steps, tokens, round(final_loss, 3) AS final_loss, parameters, seq_len FROM self_summary"),
  ],
  run: (ctx) =>
    Effect.gen(function* () {
      const p = ctx.params
      if (!p.enabled) {
        ctx.log("disabled (train/torch.enabled=false); `--profile torch` trains with PyTorch")
        yield* ctx.outputs.model.write(async (file) => fs.writeFileSync(file, emptySafetensors()))
        yield* ctx.outputs.config.write(async (file) => fs.writeFileSync(file, "{}\n"))
        yield* ctx.outputs.tokenizer.write(async (file) => fs.writeFileSync(file, "{}\n"))
        yield* ctx.outputs.loss.write([])
        yield* ctx.outputs.summary.write([])
        return
      }
      fs.mkdirSync(ctx.scratch, { recursive: true })
      // the windows as one int32 file, streamed (the script memory-maps nothing it does not need)
      const windowsFile = path.join(ctx.scratch, "windows.i32")
      const width = yield* Effect.promise(async () => {
        const fd = fs.openSync(windowsFile, "w")
        let w = 0
        try {
          for await (const row of ctx.inputs.sequences.rows()) {
            const ids = row.tokens as ReadonlyArray<number>
            if (w === 0) w = ids.length
            if (ids.length !== w) continue
            fs.writeSync(fd, Buffer.from(Int32Array.from(ids).buffer))
          }
        } finally {
          fs.closeSync(fd)
        }
        return w
      })
      if (width < 2) {
        return yield* Effect.fail(
          new NodeRunError({ node: "train/torch", message: "no packed windows to train on: the corpus is shorter than one window; lower tokens/pack.seqLength or add data", transient: false })
        )
      }
      const out = path.join(ctx.scratch, "model")
      const args = [
        ["--windows", windowsFile],
        ["--out", out],
        ["--checkpoint", path.join(ctx.scratch, "checkpoint.pt")],
        ["--key", ctx.key],
        ["--seq-len", width - 1],
        ["--vocab", p.vocab],
        ["--layers", p.layers],
        ["--heads", p.heads],
        ["--width", p.width],
        ["--ffn", p.ffn],
        ["--batch", p.batch],
        ["--accumulate", p.accumulate],
        ["--steps", p.steps],
        ["--lr", p.learningRate],
        ["--min-lr", p.minLearningRate],
        ["--warmup", p.warmup],
        ["--weight-decay", p.weightDecay],
        ["--clip", p.clip],
        ["--seed", p.seed],
        ["--checkpoint-every", p.checkpointEvery],
        ["--device", p.device],
        ["--threads", p.threads],
      ].flatMap(([k, v]) => [String(k), String(v)])
      let done: Record<string, unknown> = {}
      let device = ""
      const resolved = resolvePython(p.python)
      if (!("python" in resolved)) return yield* Effect.fail(new NodeRunError({ node: "train/torch", message: resolved.problem, transient: false }))
      yield* runScript(resolved.python, args, (e) => {
        if (e.event === "start") {
          device = String(e.device)
          ctx.log(
            `PyTorch ${String(e.torch)} on ${device}: ${Number(e.parameters).toLocaleString("en-US")} parameters, ${String(e.windows)} windows of ${width - 1} tokens${Number(e.start_step) > 0 ? `, from step ${String(e.start_step)}` : ""}`
          )
        } else if (e.event === "step") {
          const step = Number(e.step)
          ctx.progress({ done: step, total: p.steps, unit: "steps", note: `loss ${Number(e.loss).toFixed(3)} · ${Number(e.tokens_per_s).toFixed(0)} tokens/s on ${String(e.device)}` })
          if (step === 1 || step % 10 === 0 || step === p.steps)
            ctx.log(`step ${step}/${p.steps} loss ${Number(e.loss).toFixed(4)} lr ${Number(e.lr).toExponential(2)} (${Number(e.tokens_per_s).toFixed(0)} tokens/s, ${String(e.device)})`)
        } else if (e.event === "note") ctx.log(String(e.message))
        else if (e.event === "done") done = e
      })
      const losses = (JSON.parse(fs.readFileSync(path.join(out, "losses.json"), "utf8")) as Array<[number, number]>).map(([step, loss]) => ({ step, loss }))
      ctx.log(
        `done: ${Number(done.tokens).toLocaleString("en-US")} tokens in ${Number(done.seconds).toFixed(1)} s (${Number(done.tokens_per_s).toFixed(0)} tokens/s on ${device}), final loss ${Number(done.loss).toFixed(4)}`
      )
      yield* ctx.outputs.model.write(async (file) => fs.copyFileSync(path.join(out, "model.safetensors"), file))
      yield* ctx.outputs.config.write(async (file) => fs.copyFileSync(path.join(out, "config.json"), file))
      yield* ctx.outputs.tokenizer.write(async (file) => fs.writeFileSync(file, JSON.stringify(llamaTokenizerJson())))
      yield* ctx.outputs.loss.write(losses)
      yield* ctx.outputs.summary.write([
        {
          device: device === "cuda" ? "cuda" : "cpu",
          steps: p.steps,
          tokens: p.steps * p.batch * p.accumulate * (width - 1),
          final_loss: losses.at(-1)?.loss ?? null,
          parameters: Number(done.parameters),
          seq_len: width - 1,
        },
      ])
    }),
})
