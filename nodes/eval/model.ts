/**
 * The model under evaluation, whichever trainer made it: the TensorFlow.js tiny LM (in process) or
 * the PyTorch model (served on 127.0.0.1 by trainers/torch/mathdag_serve.py for the node's lifetime,
 * spoken to over the OpenAI-compatible API). Both answer in Llama-2 token ids and text, so the
 * evaluation nodes never know which one they hold.
 */
import { Effect, Schema, type Scope } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { NodeRunError } from "../../engine/errors.js"
import * as Node from "../../engine/node.js"
import { packageRoot } from "../../engine/paths.js"
import { llamaTokenizer } from "../tokens/bpe.js"
import { compactVocab, decodeCheckpoint, loadTf, TinyLM } from "../train/model.js"
import { seeded } from "../train/tiny-lm.js"
import { resolvePython, TORCH_SCRIPT, torchAvailable } from "../train/torch.js"
import { completeRemote, scoreRemote } from "./endpoint.js"

export const SERVE_SCRIPT = "trainers/torch/mathdag_serve.py"

export interface EvalModel {
  readonly name: string
  /** tokens per scored window, the predicted ones included (the model's context + 1) */
  readonly window: number
  nll(windows: ReadonlyArray<ReadonlyArray<number>>): Promise<{ nll: number; tokens: number }>
  complete(prompt: string, k: number, opts: { maxTokens: number; temperature: number; stop: ReadonlyArray<string> }): Promise<Array<string>>
}

/** The evaluation nodes' inputs: both trainers' artifacts (the disabled trainer's are empty). */
export const modelInputs = {
  model: Node.File("tinylm"),
  torchModel: Node.File("safetensors"),
  torchConfig: Node.File("json"),
  torchTokenizer: Node.File("json"),
}

/** Which model the evaluation nodes score; the `torch` profile sets `trainer: torch`. */
export const modelParams = {
  /** the model evaluated: train/tiny-lm (TensorFlow.js) or train/torch (PyTorch) */
  trainer: Schema.optionalWith(Schema.Literal("tiny-lm", "torch"), { default: () => "tiny-lm" as const }),
  /** the Python with torch that serves train/torch's model; auto: python3 on PATH, else /usr/bin/python3 */
  python: Schema.optionalWith(Schema.String.pipe(Schema.nonEmptyString()), { default: () => "auto" }),
  device: Schema.optionalWith(Schema.Literal("auto", "cuda", "cpu"), { default: () => "auto" as const }),
}

/** The code a served model runs: part of the evaluation's cache key when it evaluates train/torch. */
export const modelExternals = (p: { readonly trainer: "tiny-lm" | "torch" }): Array<string> => (p.trainer === "torch" ? [SERVE_SCRIPT, TORCH_SCRIPT] : [])

/** A check for the params Struct: PyTorch must import when the torch model is evaluated. */
export const torchReady = (p: { readonly trainer: "tiny-lm" | "torch"; readonly python: string }): string | true => (p.trainer === "torch" ? torchAvailable(p.python) : true)

interface FileInput {
  readonly path: () => Effect.Effect<string, NodeRunError>
}
type ModelFiles = { readonly [K in keyof typeof modelInputs]: FileInput }

const failure = (node: string, message: string) => new NodeRunError({ node, message, transient: false })

const tinyLmModel = (node: string, file: string, seed: number): Effect.Effect<EvalModel, NodeRunError, Scope.Scope> =>
  Effect.gen(function* () {
    const bytes = fs.readFileSync(file)
    if (bytes.length === 0)
      return yield* Effect.fail(
        failure(node, "train/tiny-lm is disabled in this run, so there is no TensorFlow.js model to evaluate; set train/tiny-lm.enabled=true, or evaluate the PyTorch model (--profile torch)")
      )
    const ckpt = yield* Effect.try({ try: () => decodeCheckpoint(bytes), catch: (e) => failure(node, `the tiny-LM model does not decode: ${(e as Error).message}`) })
    const { tf } = yield* Effect.promise(() => loadTf("auto"))
    const model = yield* Effect.acquireRelease(
      Effect.sync(() => new TinyLM(tf, ckpt.config, ckpt.weights)),
      (m) => Effect.sync(() => m.dispose())
    )
    const cv = compactVocab(ckpt.vocabIds)
    const tokenizer = llamaTokenizer()
    const rng = seeded(seed)
    return {
      name: "train/tiny-lm",
      window: ckpt.config.context + 1,
      nll: async (windows) => model.nll(windows.map((w) => cv.toCompact(w))),
      complete: async (prompt, k, o) => {
        const ids = cv.toCompact(tokenizer.encode(prompt))
        const out: Array<string> = []
        for (let s = 0; s < k; s++) {
          const text = tokenizer.decode(cv.toLlama(model.generate(ids, o.maxTokens, o.temperature, rng)))
          const cut = Math.min(...o.stop.map((x) => text.indexOf(x)).filter((i) => i >= 0), text.length)
          out.push(text.slice(0, cut))
        }
        return out
      },
    }
  })

/** Starts the server and resolves with its port once it listens; kills it when the scope closes. */
const serveTorch = (node: string, python: string, args: ReadonlyArray<string>): Effect.Effect<{ port: number; device: string }, NodeRunError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ port: number; device: string; child: ReturnType<typeof spawn> }, NodeRunError>((resume) => {
      const child = spawn(python, ["-u", path.join(packageRoot(), SERVE_SCRIPT), ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      let err = ""
      let settled = false
      const settle = (e: Effect.Effect<{ port: number; device: string; child: ReturnType<typeof spawn> }, NodeRunError>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(e)
      }
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        settle(Effect.fail(failure(node, `the PyTorch model server did not start within 120 s: ${err.trim().split("\n").slice(-2).join(" | ")}`)))
      }, 120_000)
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk
        const line = out.split("\n").find((l) => l.includes('"serving"'))
        if (!line) return
        try {
          const e = JSON.parse(line) as { port: number; device: string }
          settle(Effect.succeed({ port: e.port, device: e.device, child }))
        } catch {
          // not the whole line yet
        }
      })
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        err = (err + chunk).slice(-8000)
      })
      child.on("error", (e) => settle(Effect.fail(failure(node, `could not start ${python}: ${e.message}`))))
      child.on("exit", (code) =>
        settle(
          Effect.fail(
            failure(
              node,
              `the PyTorch model server exited (${code}) before serving: ${err
                .trim()
                .split("\n")
                .filter((l) => l.trim())
                .slice(-3)
                .join(" | ")}`
            )
          )
        )
      )
      return Effect.sync(() => void child.kill("SIGKILL"))
    }),
    ({ child }) =>
      Effect.promise(
        () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            const hard = setTimeout(() => child.kill("SIGKILL"), 2000)
            child.once("exit", () => (clearTimeout(hard), done()))
            child.kill("SIGTERM")
          })
      )
  ).pipe(Effect.map(({ port, device }) => ({ port, device })))

const torchModel = (
  node: string,
  files: { model: string; config: string; tokenizer: string },
  p: { python: string; device: string },
  seed: number
): Effect.Effect<EvalModel, NodeRunError, Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => JSON.parse(fs.readFileSync(files.config, "utf8")) as { max_position_embeddings?: number },
      catch: (e) => failure(node, `train/torch's config.json does not parse: ${(e as Error).message}`),
    })
    if (!config.max_position_embeddings)
      return yield* Effect.fail(failure(node, "train/torch is disabled in this run, so there is no PyTorch model to evaluate; use --profile torch (or train/torch.enabled=true)"))
    const resolved = resolvePython(p.python)
    if (!("python" in resolved)) return yield* Effect.fail(failure(node, resolved.problem))
    const { port, device } = yield* serveTorch(node, resolved.python, [
      "--model",
      files.model,
      "--config",
      files.config,
      "--tokenizer",
      files.tokenizer,
      "--port",
      "0",
      "--device",
      p.device,
      "--name",
      "train/torch",
    ])
    const endpoint = `http://127.0.0.1:${port}/v1`
    const tokenizer = llamaTokenizer()
    let calls = 0
    // a local model on a busy CPU can be slow, but never silent for 10 minutes
    const timeoutMs = 600_000
    return {
      name: `train/torch (PyTorch on ${device})`,
      window: config.max_position_embeddings + 1,
      nll: (windows) => scoreRemote(endpoint, "train/torch", windows, { timeoutMs }),
      // token ids, not text: the served model sees exactly the ids the tiny LM would
      complete: (prompt, k, o) => completeRemote(endpoint, "train/torch", tokenizer.encode(prompt), k, { ...o, timeoutMs, seed: seed * 1_000_003 + calls++ }),
    }
  })

/** The model the params name, open for the rest of the scope. */
export const openEvalModel = (
  node: string,
  inputs: unknown,
  p: { readonly trainer: "tiny-lm" | "torch"; readonly python: string; readonly device: string },
  seed = 1
): Effect.Effect<EvalModel, NodeRunError, Scope.Scope> =>
  Effect.gen(function* () {
    const files = inputs as ModelFiles // the nodes' input records are mapped types TypeScript cannot narrow
    if (p.trainer === "tiny-lm") return yield* tinyLmModel(node, yield* files.model.path(), seed)
    return yield* torchModel(node, { model: yield* files.torchModel.path(), config: yield* files.torchConfig.path(), tokenizer: yield* files.torchTokenizer.path() }, p, seed)
  })
