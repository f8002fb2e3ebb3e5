/** Tokenizer parity, neox export, packing and mixing, the tiny LM (resume, NaN), and MATH/GSM8k answers. */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { completeRemote } from "../nodes/eval/endpoint.js"
import { answerOf, promptFor } from "../nodes/eval/math.js"
import { gsmGold, mathGold, normalizeMath } from "../nodes/eval/answers.js"
import YAML from "yaml"
import { LlamaTokenizer, llamaTokenizerJson, vocabFromTokenizerJson } from "../nodes/tokens/bpe.js"
import { sentencepiecePython } from "../nodes/tokens/sentencepiece.js"
import { readIndexedDataset, writeIndexedDataset } from "../nodes/tokens/neox.js"
import { trainLoop } from "../nodes/train/tiny-lm.js"
import { ROOT, dag, dagAwait, readRunRecord, sandbox, summary, tempDir } from "./helpers.js"

const SHARED = path.resolve(ROOT, "..", "shared", "data")
const MODEL = path.join(SHARED, "tokenizer", "llama2-tokenizer.model")
const BENCH = path.join(SHARED, "benchmarks")

const tokenizer = new LlamaTokenizer()

/** Thousands of strings that stress a BPE: LaTeX, code, Unicode, emoji, whitespace runs, bytes. */
const parityStrings = (): Array<string> => {
  const seeds = [
    "Hello world",
    "$\\frac{a}{b} + \\sqrt{x^2 + y^2}$",
    "\\begin{align} \\int_0^\\infty e^{-x^2}\\,dx &= \\frac{\\sqrt\\pi}{2} \\end{align}",
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; ++i) { a[i] += b[i]; }",
    "theorem add_comm (a b : ℕ) : a + b = b + a := by simp",
    "日本語のテキストと中文",
    "Ünïcödé ñ İstanbul ΣΑΣ ﬁ ｆｕｌｌ",
    "emoji 😀🎉👩‍👩‍👧 ok",
    "tabs\tand\nnewlines\r\nand    runs      of spaces",
    "\u0001\u0007 control \u00ad soft hyphen \u200b zero width",
    "",
    " ",
    "   leading and trailing   ",
  ]
  const out = [...seeds]
  let s = 7
  const r = () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32
  const pieces = seeds.flatMap((x) => x.split(/(?<=\s)/))
  for (let i = 0; i < 3000; i++) {
    let t = ""
    const n = 1 + Math.floor(r() * 12)
    for (let j = 0; j < n; j++) t += pieces[Math.floor(r() * pieces.length)]! + (r() < 0.2 ? " ".repeat(Math.floor(r() * 5)) : "")
    out.push(t)
  }
  return out
}

describe("Llama-2 tokenizer", () => {
  it("matches llama-tokenizer-js on thousands of strings (LaTeX, code, Unicode, emoji, whitespace runs, byte fallback)", async () => {
    const ref = (await import("llama-tokenizer-js")).default as { encode: (s: string, bos: boolean) => Array<number> }
    const strings = parityStrings()
    const mismatches = strings.filter((s) => JSON.stringify(tokenizer.encode(s)) !== JSON.stringify(ref.encode(s, false)))
    expect(mismatches).toEqual([])
    expect(strings.length).toBeGreaterThan(3000)
    expect(tokenizer.encode("Hello world", { bos: true })).toEqual([1, 15043, 3186])
    expect(tokenizer.encode("a", { eos: true }).at(-1)).toBe(2)
    expect(tokenizer.encode("\u0001")).toEqual([29871, 4]) // ▁ then the byte <0x01>
    for (const s of strings.slice(0, 200)) expect(tokenizer.decode(tokenizer.encode(s))).toBe(s)
  })

  it("writes a Hugging Face tokenizer.json that encodes exactly as the tokenizer itself", () => {
    const json = JSON.parse(JSON.stringify(llamaTokenizerJson())) as {
      model: { type: string; byte_fallback: boolean; vocab: Record<string, number>; merges: Array<string> }
      added_tokens: Array<{ id: number; content: string }>
    }
    expect(json.model).toMatchObject({ type: "BPE", byte_fallback: true })
    expect(Object.keys(json.model.vocab).length).toBe(32_000)
    expect(json.added_tokens.map((t) => [t.id, t.content])).toEqual([
      [0, "<unk>"],
      [1, "<s>"],
      [2, "</s>"],
    ])
    // every merge is two pieces whose concatenation is a piece
    for (const m of json.model.merges.slice(0, 2000)) {
      const [l, r] = [m.slice(0, m.indexOf(" ", 1)), m.slice(m.indexOf(" ", 1) + 1)]
      expect(json.model.vocab[l + r], m).toBeDefined()
    }
    const reread = new LlamaTokenizer(vocabFromTokenizerJson(json))
    const strings = parityStrings().slice(0, 1500)
    expect(strings.filter((x) => JSON.stringify(reread.encode(x)) !== JSON.stringify(tokenizer.encode(x)))).toEqual([])
  })

  const py = sentencepiecePython()
  it.skipIf(!py || !fs.existsSync(MODEL))("matches SentencePiece 0.1.97 with the Llama-2 model (../shared, python3-sentencepiece)", () => {
    const strings = parityStrings()
    if (fs.existsSync(BENCH)) {
      for (const line of fs.readFileSync(path.join(BENCH, "MATH_test.jsonl"), "utf8").split("\n").slice(0, 500)) if (line.trim()) strings.push(JSON.parse(line).solution)
    }
    const out = execFileSync(py!, [path.join(ROOT, "scripts/sentencepiece-encode.py"), MODEL], { input: strings.map((s) => JSON.stringify(s)).join("\n") + "\n", maxBuffer: 1 << 28 })
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Array<number>)
    expect(out).toHaveLength(strings.length)
    const bad = strings.filter((s, i) => JSON.stringify(tokenizer.encode(s)) !== JSON.stringify(out[i]))
    expect(bad).toEqual([])
  })

  it("dag tokenize prints one id array per input, and rejects a bad JSON line with its number", () => {
    const box = sandbox("tokenize")
    expect(JSON.parse(dag(box, ["tokenize", "--bos"], { input: "Hello world" }).stdout)).toEqual([1, 15043, 3186])
    const lines = dag(box, ["tokenize", "--jsonl"], { input: '{"text":"a b"}\n{"text":"$x$"}\n' }).stdout.trim().split("\n")
    expect(lines.map((l) => JSON.parse(l))).toEqual([tokenizer.encode("a b"), tokenizer.encode("$x$")])
    const bad = dag(box, ["tokenize", "--jsonl"], { input: '{"text":"ok"}\nnot json\n' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("line 2 is not JSON")
  })
})

describe("gpt-neox indexed dataset", () => {
  it("writes the MMIDIDX layout byte for byte and reads back the tokenizer's ids", async () => {
    const dir = tempDir("neox")
    const docs = ["First document.", "", "$e^{i\\pi} + 1 = 0$", "Second 😀"].map((t) => tokenizer.encode(t))
    const prefix = path.join(dir, "x_text_document")
    const r = await writeIndexedDataset(
      prefix,
      (async function* () {
        yield* docs
      })(),
      32000
    )
    expect(r.documents).toBe(3) // the empty one is skipped, as gpt-neox does
    const idx = fs.readFileSync(`${prefix}.idx`)
    expect(idx.subarray(0, 9).toString("latin1")).toBe("MMIDIDX\x00\x00")
    expect(idx.readBigUInt64LE(9)).toBe(1n)
    expect(idx.readUInt8(17)).toBe(8) // uint16
    expect(idx.length).toBe(9 + 8 + 1 + 8 + 8 + 4 * 3 + 8 * 3 + 8 * 4)
    const back = readIndexedDataset(prefix)
    const nonEmpty = docs.filter((d) => d.length)
    expect(back.docs).toEqual(nonEmpty)
    expect(back.sizes).toEqual(nonEmpty.map((d) => d.length))
    expect(back.pointers).toEqual([0, 2 * nonEmpty[0]!.length, 2 * (nonEmpty[0]!.length + nonEmpty[1]!.length)])
    expect(back.docIdx).toEqual([0, 1, 2, 3])
    expect(back.binBytes).toBe(2 * nonEmpty.reduce((a, d) => a + d.length, 0))
  })
})

describe("proof-pile-2 tokens end to end (sample)", () => {
  it("mixes 2:4:1, packs overlapping windows, exports neox files that decode to the tokenizer's ids", { timeout: 600_000 }, async () => {
    const box = sandbox("tokens")
    // a short training keeps this test quick; the rest is the sample profile
    // asynchronously: a long synchronous spawn starves the test worker's RPC with vitest
    const s = summary(await dagAwait(box, ["run", "proof-pile-2", "--param", "train/tiny-lm.steps=3", "--param", "eval/math.limit=2", "--json"]))
    expect(s.nodes.every((n) => n.status === "computed")).toBe(true)
    const q = (sql: string) => JSON.parse(dag(box, ["sql", sql, "--format", "json"]).stdout) as Array<Record<string, number | string>>
    const mixture = q("select subset, planned_share, achieved_share, epochs from tokens_mix__mixture order by subset")
    expect(mixture.map((m) => m.subset)).toEqual(["algebraic-stack", "arxiv", "open-web-math"])
    for (const m of mixture) expect(Math.abs(Number(m.achieved_share) - Number(m.planned_share))).toBeLessThan(0.05)
    expect(Math.min(...mixture.map((m) => Number(m.epochs)))).toBeGreaterThanOrEqual(1) // every document used at least once
    // windows of seq_length + 1 that overlap by one token
    const seqs = q("select seq, tokens from tokens_pack__sequences order by seq limit 3") as unknown as Array<{ seq: number; tokens: Array<number> }>
    expect(seqs[0]!.tokens).toHaveLength(65)
    expect(seqs[1]!.tokens[0]).toBe(seqs[0]!.tokens[64])
    // the stream is the documents in packing order, concatenated
    const docs = q("select tokens from tokens_pack__documents order by position limit 40") as unknown as Array<{ tokens: Array<number> }>
    expect(docs.flatMap((d) => d.tokens).slice(0, 129)).toEqual([...seqs[0]!.tokens, ...seqs[1]!.tokens.slice(1)])
    // neox export: one indexed dataset per subset plus the data config
    const out = path.join(box.dir, "neox")
    dag(box, ["export", "tokens/pack", "--format", "neox", "--out", out])
    const config = fs.readFileSync(path.join(out, "data-config.yml"), "utf8")
    expect(config).toContain('"train-data-weights": [1, 2, 4]')
    // the whole training config: valid YAML, Llemma-7B shape, this export's data and mixture
    const neox = YAML.parse(fs.readFileSync(path.join(out, "llemma-7b.yml"), "utf8")) as Record<string, unknown>
    expect(neox).toMatchObject({
      num_layers: 32,
      hidden_size: 4096,
      num_attention_heads: 32,
      seq_length: 4096,
      norm: "rmsnorm",
      mlp_type: "llama",
      tokenizer_type: "SPMTokenizer",
      train_data_weights: [1, 2, 4],
    })
    expect(neox.train_data_paths).toEqual(["algebraic-stack", "arxiv", "open-web-math"].map((s) => path.join(out, `${s}_text_document`)))
    for (const p of neox.train_data_paths as Array<string>) expect(fs.existsSync(`${p}.idx`)).toBe(true)
    const arxiv = readIndexedDataset(path.join(out, "arxiv_text_document"))
    const expected = q("select tokens from tokens_pack__documents where subset = 'arxiv' and epoch = 0 order by position") as unknown as Array<{ tokens: Array<number> }>
    expect(arxiv.docs).toEqual(expected.map((d) => d.tokens))
    const papers = q("select id, tokens from tokens_tokenize_arxiv where split = 'train' order by id") as unknown as Array<{ id: string; tokens: Array<number> }>
    const texts = new Map((q("select id, text from overlap_decontaminate_arxiv__kept") as Array<{ id: string; text: string }>).map((r) => [r.id, r.text]))
    for (const p of papers) expect(p.tokens).toEqual(tokenizer.encode(texts.get(p.id)!))
    expect(arxiv.docs.map((d) => d.join(",")).sort()).toEqual(papers.map((p) => p.tokens.join(",")).sort())
    // training, perplexity and eval ran and are in the journal
    const record = readRunRecord(box, s.run)
    const train = record.nodes.find((n) => n.node === "train/tiny-lm")!
    expect(train.status).toBe("computed")
    // speed is a fact of the run: in the node's log (journal and report), not in its artifacts
    expect(train.messages?.some((m) => /tokens\/s/.test(m))).toBe(true)
    expect(fs.readFileSync(path.join(box.runs, s.run, "report.html"), "utf8")).toMatch(/<h3>Log<\/h3><pre>[^<]*tokens\/s/)
    const loss = q("select step, loss from train_tiny_lm__loss order by step")
    expect(loss).toHaveLength(3)
    const ppl = q("select subset, perplexity from eval_perplexity order by subset")
    expect(ppl.every((r) => Number(r.perplexity) > 1)).toBe(true)
    // a second run is all cached
    const again = summary(await dagAwait(box, ["run", "proof-pile-2", "--param", "train/tiny-lm.steps=3", "--param", "eval/math.limit=2", "--json"]))
    expect(again.nodes.every((n) => n.status === "cached")).toBe(true)
    // packing in small buckets (several partition passes, each bucket sorted alone) gives the same stream
    const digest = () =>
      q("select (select sum(hash(seq, tokens))::VARCHAR from tokens_pack__sequences) AS s, (select sum(hash(position, subset, id, epoch, tokens))::VARCHAR from tokens_pack__documents) AS d")[0]
    const whole = digest()
    const bucketed = summary(await dagAwait(box, ["run", "proof-pile-2", "--select", "tokens/pack", "--param", "tokens/pack.bucketTokens=300", "--json"]))
    expect(bucketed.nodes.find((n) => n.node === "tokens/pack")!.status).toBe("computed")
    expect(digest()).toEqual(whole)
  })
})

describe("tiny LM training", () => {
  const windows = Array.from({ length: 12 }, (_, i) => Array.from({ length: 17 }, (_, j) => ((i * 7 + j * 3) % 40) + 100))
  const params = { layers: 1, heads: 2, width: 16, context: 0, batch: 4, steps: 6, learningRate: 1e-2, vocab: 64, seed: 3, checkpointEvery: 2, backend: "wasm" as const }

  it("is deterministic, and a run resumed from a checkpoint ends with the same weights", async () => {
    const a = await trainLoop({ windows, params })
    const b = await trainLoop({ windows, params })
    expect(a.finalLoss).toBe(b.finalLoss)
    let saved: Parameters<NonNullable<Parameters<typeof trainLoop>[0]["onCheckpoint"]>>[0] | undefined
    await trainLoop({ windows, params: { ...params, steps: 4 }, onCheckpoint: async (c) => void (saved = c) })
    expect(saved!.step).toBe(2)
    const resumed = await trainLoop({ windows, params, resume: saved! })
    expect(resumed.finalLoss).toBeCloseTo(a.finalLoss, 4)
    expect(Array.from(resumed.checkpoint.weights.out!.data.slice(0, 8))).toEqual(Array.from(a.checkpoint.weights.out!.data.slice(0, 8)).map((x) => expect.closeTo(x, 4)))
  })

  it("stops on a NaN loss with the step number and points at the last good checkpoint", async () => {
    const checkpoints: Array<number> = []
    await expect(trainLoop({ windows, params: { ...params, learningRate: 1e30, steps: 20 }, onCheckpoint: async (c) => void checkpoints.push(c.step) })).rejects.toThrow(
      /loss became (NaN|Infinity|-Infinity) at step \d+/
    )
  })
})

describe("MATH and GSM8k answers", () => {
  it("normalises answers Minerva-style", () => {
    expect(normalizeMath("\\dfrac{1}{2}")).toBe("\\frac{1}{2}")
    expect(normalizeMath("\\frac12")).toBe("\\frac{1}{2}")
    expect(normalizeMath("x = 5")).toBe("5")
    expect(normalizeMath("10\\%")).toBe("10")
    expect(normalizeMath("120^\\circ")).toBe("120")
    expect(normalizeMath("\\text{(A)}")).toBe("(A)")
    expect(normalizeMath("1,000")).toBe("1000")
    expect(normalizeMath("5.0")).toBe("5")
    expect(answerOf("MATH", "so $x=3$.\nFinal Answer: The final answer is $\\dfrac{3}{4}$. I hope it is correct.")).toBe("\\frac{3}{4}")
    expect(answerOf("GSM8k", "She has 3 + 4 = 7. The answer is 7.")).toBe("7")
    expect(answerOf("GSM8k", "no number here")).toBeUndefined()
    expect(promptFor("MATH", "What is 1+1?", 2)).toMatch(/Problem:\n.*\n\nSolution:\n[\s\S]*Problem:\nWhat is 1\+1\?\n\nSolution:\n$/)
  })

  it.skipIf(!fs.existsSync(BENCH))("scores the gold solutions of the real MATH and GSM8k test sets at 100 % (../shared)", () => {
    const read = (f: string) =>
      fs
        .readFileSync(path.join(BENCH, f), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>)
    const math = read("MATH_test.jsonl")
    let scored = 0
    for (const m of math) {
      const gold = mathGold(m.solution!)
      if (gold === undefined) continue
      scored++
      // the gold solution as a completion: its last \boxed is the model's answer
      expect(answerOf("MATH", m.solution!)).toBe(normalizeMath(gold))
    }
    expect(scored / math.length).toBeGreaterThan(0.99)
    const gsm = read("gsm8k_test.jsonl")
    for (const g of gsm) expect(answerOf("GSM8k", g.answer!)).toBe(gsmGold(g.answer!))
    expect(gsm.length).toBeGreaterThan(1000)
  })

  it("evaluates through an OpenAI-compatible endpoint on 127.0.0.1: answers, garbage and timeouts (key sent, never logged)", async () => {
    const seen: Array<string | undefined> = []
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        seen.push(req.headers.authorization)
        const prompt = (JSON.parse(body) as { prompt: string }).prompt
        if (prompt.includes("garbage")) return res.end("<html>not json</html>")
        if (prompt.includes("slow")) return setTimeout(() => res.end("{}"), 2000)
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ choices: [{ text: " 6 * 7 = 42. The answer is 42." }, { text: " The answer is 41." }, { text: " The answer is 42." }] }))
      })
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`
    try {
      const opts = { maxTokens: 16, temperature: 0.6, timeoutMs: 500, apiKey: "sk-test-secret", stop: [] }
      const texts = await completeRemote(url, "m", promptFor("GSM8k", "What is 6 * 7?", 1), 3, opts)
      expect(texts.map((t) => answerOf("GSM8k", t))).toEqual(["42", "41", "42"])
      expect(seen[0]).toBe("Bearer sk-test-secret")
      await expect(completeRemote(url, "m", "garbage", 1, opts)).rejects.toThrow("endpoint returned garbage")
      await expect(completeRemote(url, "m", "slow", 1, opts)).rejects.toThrow("endpoint timed out after 500 ms")
    } finally {
      server.close()
    }
  })
})
