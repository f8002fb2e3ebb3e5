/**
 * gpt-neox's indexed dataset (megatron `MMapIndexedDataset`), byte for byte: `<prefix>.bin` holds the
 * token ids of every document back to back; `<prefix>.idx` is the magic `MMIDIDX\0\0`, u64 version 1,
 * u8 dtype code, u64 document count N, u64 D = N + 1, int32 sizes[N], int64 byte offsets[N] and
 * int64 doc_idx[D] = 0..N, all little-endian. uint16 ids (code 8) when the vocabulary is under
 * 65,500, else int32 (code 4). Both files are written to temporaries, fsynced and renamed.
 */
import * as fs from "node:fs"
import type { ExportFormat } from "../../engine/extension.js"
import { llamaTokenizer } from "./bpe.js"

const MAGIC = Buffer.from("MMIDIDX\x00\x00", "latin1")
export const DTYPE = { uint16: { code: 8, size: 2 }, int32: { code: 4, size: 4 } } as const

export const dtypeFor = (vocabSize: number) => (vocabSize < 65_500 ? DTYPE.uint16 : DTYPE.int32)

const writeAll = (fd: number, buf: Buffer) => {
  for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off)
}

/** Writes the documents (arrays of ids); returns the document and token counts. */
export const writeIndexedDataset = async (prefix: string, docs: AsyncIterable<ReadonlyArray<number>>, vocabSize: number): Promise<{ documents: number; tokens: number }> => {
  const dtype = dtypeFor(vocabSize)
  const tmpBin = `${prefix}.bin.${process.pid}.tmp`
  const tmpIdx = `${prefix}.idx.${process.pid}.tmp`
  const sizes: Array<number> = []
  let tokens = 0
  const bin = fs.openSync(tmpBin, "w")
  try {
    for await (const doc of docs) {
      if (doc.length === 0) continue // gpt-neox skips empty documents
      const buf = Buffer.alloc(doc.length * dtype.size)
      for (let i = 0; i < doc.length; i++) {
        const id = doc[i]!
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`token id ${id} outside the vocabulary (0..${vocabSize - 1})`)
        dtype.size === 2 ? buf.writeUInt16LE(id, i * 2) : buf.writeInt32LE(id, i * 4)
      }
      writeAll(bin, buf)
      sizes.push(doc.length)
      tokens += doc.length
    }
    fs.fsyncSync(bin)
  } finally {
    fs.closeSync(bin)
  }
  const n = sizes.length
  const idx = Buffer.alloc(MAGIC.length + 8 + 1 + 8 + 8 + 4 * n + 8 * n + 8 * (n + 1))
  let o = MAGIC.copy(idx, 0)
  o = idx.writeBigUInt64LE(1n, o)
  o = idx.writeUInt8(dtype.code, o)
  o = idx.writeBigUInt64LE(BigInt(n), o)
  o = idx.writeBigUInt64LE(BigInt(n + 1), o)
  for (const s of sizes) o = idx.writeInt32LE(s, o)
  let pointer = 0n
  for (const s of sizes) {
    o = idx.writeBigInt64LE(pointer, o)
    pointer += BigInt(s * dtype.size)
  }
  for (let i = 0; i <= n; i++) o = idx.writeBigInt64LE(BigInt(i), o)
  const fd = fs.openSync(tmpIdx, "w")
  try {
    writeAll(fd, idx)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmpBin, `${prefix}.bin`)
  fs.renameSync(tmpIdx, `${prefix}.idx`) // the index last: a prefix with an .idx is complete
  return { documents: n, tokens }
}

/** Reads an indexed dataset back, checking the header (used by tests and `dag export` itself). */
export const readIndexedDataset = (prefix: string) => {
  const idx = fs.readFileSync(`${prefix}.idx`)
  if (!idx.subarray(0, 9).equals(MAGIC)) throw new Error(`${prefix}.idx: not an MMIDIDX index (bad magic)`)
  let o = 9
  const version = idx.readBigUInt64LE(o)
  o += 8
  const code = idx.readUInt8(o)
  o += 1
  const n = Number(idx.readBigUInt64LE(o))
  o += 8
  const d = Number(idx.readBigUInt64LE(o))
  o += 8
  const sizes = Array.from({ length: n }, (_, i) => idx.readInt32LE(o + 4 * i))
  o += 4 * n
  const pointers = Array.from({ length: n }, (_, i) => Number(idx.readBigInt64LE(o + 8 * i)))
  o += 8 * n
  const docIdx = Array.from({ length: d }, (_, i) => Number(idx.readBigInt64LE(o + 8 * i)))
  o += 8 * d
  if (o !== idx.length) throw new Error(`${prefix}.idx: ${idx.length - o} trailing bytes`)
  const size = code === DTYPE.uint16.code ? 2 : code === DTYPE.int32.code ? 4 : 0
  if (!size) throw new Error(`${prefix}.idx: dtype code ${code} is not uint16 (8) or int32 (4)`)
  const bin = fs.readFileSync(`${prefix}.bin`)
  const docs = sizes.map((s, i) => Array.from({ length: s }, (_, j) => (size === 2 ? bin.readUInt16LE(pointers[i]! + 2 * j) : bin.readInt32LE(pointers[i]! + 4 * j))))
  return { version, code, sizes, pointers, docIdx, docs, binBytes: bin.length }
}

/**
 * `dag export … --format neox`: a token dataset's documents as one indexed dataset per subset
 * (`<out>/<subset>_text_document.{bin,idx}`; one `<name>_text_document` without a subset column),
 * each document once (epoch 0 of a mixture), in packing order where there is one; plus
 * `data-config.yml`, the gpt-neox `train-data-paths` / `train-data-weights` of the mixture.
 */
export const exportNeox = async (
  query: (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>,
  stream: (sql: string) => Promise<AsyncIterable<Record<string, unknown>>>,
  source: string,
  columns: ReadonlyArray<string>,
  name: string,
  out: string,
  vocabSize: number
): Promise<Array<{ prefix: string; documents: number; tokens: number; weight: number }>> => {
  if (!columns.includes("tokens")) throw new Error(`--format neox needs a "tokens" column of ids; this output has ${columns.join(", ")}`)
  const where = columns.includes("epoch") ? "WHERE epoch = 0" : ""
  const orderBy = columns.includes("position") ? "ORDER BY position" : ""
  const groups = columns.includes("subset")
    ? ((await query(`SELECT subset, ${columns.includes("weight") ? "max(weight)" : "1.0"} AS weight FROM ${source} ${where} GROUP BY 1 ORDER BY 1`)) as Array<{ subset: string; weight: number }>)
    : [{ subset: undefined, weight: 1 }]
  const written = []
  for (const g of groups) {
    const prefix = `${out}/${(g.subset ?? name).replace(/[^A-Za-z0-9_.-]+/g, "-")}_text_document`
    const filter = g.subset === undefined ? where : `${where ? `${where} AND` : "WHERE"} subset = '${g.subset.replaceAll("'", "''")}'`
    const rows = await stream(`SELECT tokens FROM ${source} ${filter} ${orderBy}`)
    const counts = await writeIndexedDataset(
      prefix,
      (async function* () {
        for await (const r of rows) yield r.tokens as ReadonlyArray<number>
      })(),
      vocabSize
    )
    written.push({ prefix, ...counts, weight: Number(g.weight) })
  }
  const yaml = [
    "# gpt-neox data config for this mixture (written by `dag export --format neox`); merge into your",
    "# training config. Paths are prefixes: gpt-neox adds .bin / .idx.",
    `"train-data-paths": [${written.map((w) => JSON.stringify(w.prefix)).join(", ")}],`,
    `"train-data-weights": [${written.map((w) => w.weight).join(", ")}],`,
    "",
  ].join("\n")
  writeAtomically(`${out}/data-config.yml`, yaml)
  writeAtomically(`${out}/${NEOX_CONFIG}`, neoxTrainingConfig(written))
  return written
}

const writeAtomically = (file: string, text: string) => {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

export const NEOX_CONFIG = "llemma-7b.yml"

/**
 * A whole gpt-neox training config for a Llemma-7B-shaped model on the exported data, so
 * `python deepy.py train.py llemma-7b.yml` runs from the export folder as it is. The architecture is
 * Llama 2 / Code Llama 7B's (32 layers, width 4,096, 32 heads, SwiGLU 11,008, RMSNorm, rotary, no
 * biases, untied head; gpt-neox's "llama" MLP); the schedule follows the Llemma paper (arXiv
 * 2310.10631, §3): sequences of 4,096 tokens, ~4M tokens per step, learning rate 1e-4 with 500
 * warm-up steps and cosine decay to 1/30 of it, bf16, 200B tokens (48,000 steps here).
 */
export const neoxTrainingConfig = (written: ReadonlyArray<{ prefix: string; weight: number }>): string => {
  const paths = `[${written.map((w) => JSON.stringify(w.prefix)).join(", ")}]`
  const weights = `[${written.map((w) => w.weight).join(", ")}]`
  return `# gpt-neox config written by \`dag export tokens/pack --format neox\`: a Llemma-7B-shaped model on
# this export. Run from a gpt-neox checkout:  python deepy.py train.py ${NEOX_CONFIG}
#
# Before a real run:
#  - vocab_file: Llama 2's SentencePiece model (tokenizer.model from Meta's Llama 2 release); the ids
#    in the .bin files are its ids.
#  - Batch: 1,024 sequences of 4,096 tokens per step (~4M tokens, as Llemma) =
#    train_micro_batch_size_per_gpu x gradient_accumulation_steps x data-parallel GPUs; the values
#    below assume 256 GPUs. With fewer, raise gradient_accumulation_steps to keep 1,024.
#  - To continue from Code Llama 7B as Llemma did, convert its weights to gpt-neox and set load /
#    finetune; Code Llama's rotary base is 1,000,000 (rotary_emb_base).
#  - valid/test paths are the training data here: point them at held-out exports.

# model: Llama 2 / Code Llama 7B shape
num_layers: 32
hidden_size: 4096
num_attention_heads: 32
intermediate_size: 11008
seq_length: 4096
max_position_embeddings: 4096
pos_emb: rotary
rotary_pct: 1
rotary_emb_base: 10000
norm: rmsnorm
rms_norm_epsilon: 1.0e-5
mlp_type: llama
activation: silu
use_bias_in_norms: false
use_bias_in_attn_linear: false
no_weight_tying: true
gpt_j_residual: false
output_layer_parallelism: column
scaled_upper_triang_masked_softmax_fusion: true
bias_gelu_fusion: false
make_vocab_size_divisible_by: 1
init_method: small_init
output_layer_init_method: wang_init

# tokenizer: Llama 2's 32,000 SentencePiece pieces
tokenizer_type: SPMTokenizer
vocab_file: tokenizer.model

# data: the Proof-Pile-2 mixture as exported (paths are prefixes of .bin/.idx; weights are the mixture's)
data_impl: mmap
train_data_paths: ${paths}
train_data_weights: ${weights}
valid_data_paths: ${paths}
valid_data_weights: ${weights}
test_data_paths: ${paths}
test_data_weights: ${weights}

# optimisation (Llemma paper, section 3)
optimizer:
  type: Adam
  params:
    lr: 1.0e-4
    betas: [0.9, 0.95]
    eps: 1.0e-8
min_lr: 3.33e-6
lr_decay_style: cosine
warmup: 0.0104 # 500 of 48,000 steps
train_iters: 48000
lr_decay_iters: 48000
weight_decay: 0.1
gradient_clipping: 1.0
hidden_dropout: 0
attention_dropout: 0
train_micro_batch_size_per_gpu: 4
gradient_accumulation_steps: 1
zero_optimization:
  stage: 1
  contiguous_gradients: true
  overlap_comm: true
  reduce_scatter: true
  allgather_partitions: true
bf16:
  enabled: true
precision: bfloat16
checkpoint_activations: true
checkpoint_num_layers: 1
partition_activations: true
synchronize_each_layer: true

# checkpoints and logs
save: checkpoints
load: checkpoints
checkpoint_factor: 1000
keep_last_n_checkpoints: 4
eval_interval: 1000
eval_iters: 10
log_interval: 10
steps_per_print: 10
`
}

/**
 * `dag export tokens/pack --format neox --out DIR`: the documents (not the packed windows) of a
 * token dataset as gpt-neox indexed datasets, data-config.yml and llemma-7b.yml.
 */
export const neoxFormat: ExportFormat = {
  description:
    "gpt-neox indexed datasets (.bin/.idx per subset), data-config.yml and a gpt-neox training config for a Llemma-7B-shaped model (llemma-7b.yml), from an output with a `tokens` column (tokens/pack)",
  // tokens/pack: its `documents` in packing order, not the windows (gpt-neox packs for itself)
  outputs: (names) => (names.includes("documents") ? ["documents"] : names),
  write: async (d) => {
    const written = await exportNeox(d.query, d.stream, d.source, d.columns, d.name, d.out, llamaTokenizer().vocabSize)
    return [
      ...written.map((w) => `${d.name} → ${w.prefix}.bin/.idx (${w.documents.toLocaleString("en-US")} documents, ${w.tokens.toLocaleString("en-US")} tokens, weight ${w.weight})`),
      `gpt-neox data config → ${d.out}/data-config.yml`,
      `gpt-neox training config (Llemma 7B shape) → ${d.out}/${NEOX_CONFIG}: python deepy.py train.py ${NEOX_CONFIG}`,
    ]
  },
}
