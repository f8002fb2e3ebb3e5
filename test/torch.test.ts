/**
 * The PyTorch trainer (trainers/torch) and the train/torch node. Needs python3 with torch (CI
 * installs Debian's python3-torch); without it these tests skip, except in CI where they fail.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { resolvePython, TORCH_SCRIPT } from "../nodes/train/torch.js"
import { dag, dagAwait, ROOT, sandbox, summary, tempDir } from "./helpers.js"

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
  "-u", script, "--windows", windows, "--seq-len", "16", "--vocab", "64", "--layers", "2", "--heads", "2", "--width", "32",
  "--batch", "8", "--steps", "40", "--lr", "0.01", "--warmup", "4", "--device", "cpu", "--threads", "1", "--seed", "3", ...extra,
]
const events = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)

withTorch("PyTorch trainer script", () => {
  it("learns (loss goes down) and writes a safetensors file under LlamaForCausalLM names, shapes and dtypes", () => {
    const dir = tempDir("torch-train")
    const out = path.join(dir, "out")
    const r = spawnSync(python, baseArgs(dir, writeWindows(dir), ["--out", out]), { encoding: "utf8", timeout: 120_000 })
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
    const whole = spawnSync(python, baseArgs(dir, windows, ["--out", path.join(dir, "whole")]), { encoding: "utf8", timeout: 120_000 })
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
    const resumed = spawnSync(python, baseArgs(dir, windows, split), { encoding: "utf8", timeout: 120_000 })
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

  it("a checkpoint made for another key is discarded with a note", () => {
    const dir = tempDir("torch-foreign")
    const windows = writeWindows(dir)
    const ckpt = path.join(dir, "ckpt.pt")
    const first = spawnSync(python, baseArgs(dir, windows, ["--out", path.join(dir, "a"), "--checkpoint", ckpt, "--key", "key-a", "--checkpoint-every", "5", "--steps", "12"]), { encoding: "utf8", timeout: 120_000 })
    expect(first.status, first.stderr).toBe(0)
    expect(fs.existsSync(ckpt)).toBe(true)
    const second = spawnSync(python, baseArgs(dir, windows, ["--out", path.join(dir, "b"), "--checkpoint", ckpt, "--key", "key-b", "--steps", "12"]), { encoding: "utf8", timeout: 120_000 })
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/discarded the checkpoint .* made for another cache key/)
    expect(second.stdout).not.toMatch(/resuming/)
  }, 180_000)
})

withTorch("train/torch in the pipeline (--profile torch)", () => {
  it("trains on the sample's packed windows: loss curve and summary in views, the model exported", async () => {
    const box = sandbox("torch-pipeline")
    const r = await dagAwait(box, ["run", "proof-pile-2", "--profile", "torch", "--select", "train/torch", "--param", "train/torch.steps=12", "--param", "train/torch.batch=4", "--param", "train/torch.width=64", "--json"])
    expect(r.code, r.stderr).toBe(0)
    const node = summary(r).nodes.find((n) => n.node === "train/torch")!
    expect(node.status).toBe("computed")
    const loss = dag(box, ["sql", "select count(*) as n, arg_min(loss, step) as first, arg_max(loss, step) as last from train_torch__loss", "--format", "json"])
    expect(loss.code, loss.stderr).toBe(0)
    const [row] = JSON.parse(loss.stdout) as Array<{ n: number; first: number; last: number }>
    expect(row!.n).toBe(12)
    expect(row!.last).toBeLessThan(row!.first)
    const out = path.join(box.dir, "export")
    expect(dag(box, ["export", "train/torch", "--out", out]).code).toBe(0)
    const st = fs.readdirSync(out).find((f) => f.endsWith(".safetensors"))!
    expect(readSafetensors(path.join(out, st)).header["model.embed_tokens.weight"]!.shape).toEqual([32000, 64])
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
