/**
 * The Llama-2 tokenizer (SentencePiece BPE, 32,000 pieces, byte fallback), written for speed.
 *
 * Vocabulary and merge order come from the data shipped in the `llama-tokenizer-js` package (its ids
 * are verified against SentencePiece); the encoder is ours. SentencePiece's Llama-2 model escapes
 * spaces as "▁", adds one "▁" in front (add_dummy_prefix), leaves the text otherwise unnormalised,
 * and merges the adjacent pair of highest priority until none is left, ties going left to right.
 * Characters outside the vocabulary become their UTF-8 bytes (<0xNN> pieces).
 *
 * Speed comes from two facts about this vocabulary: no piece has "▁" after another character, so
 * merges never cross the start of a "▁…" run, and the text splits into independent words; and words
 * repeat, so each distinct word is merged once and cached. Merging uses a heap of candidate pairs.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"

export const BOS = 1
export const EOS = 2
export const UNK = 0
const SPACE = "▁"

export interface LlamaVocab {
  readonly pieces: ReadonlyArray<string>
  /** merge rank (lower merges first) of a pair of ids, keyed `left * PAIR + right` */
  readonly rank: ReadonlyMap<number, number>
}

// pair keys `left * PAIR + right` stay below 2^30, V8's small-integer range, which keeps Map lookups fast
const PAIR = 1 << 15

let shipped: LlamaVocab | undefined

/** The vocabulary and merges of the `llama-tokenizer-js` package, read as data (its code is not run). */
export const llamaVocab = (): LlamaVocab => {
  if (shipped) return shipped
  const require = createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)
  const file = require.resolve("llama-tokenizer-js/llama-tokenizer.js")
  const src = fs.readFileSync(file, "utf8")
  const vocab = /const llama_vocab_base64 = "([^"]+)"/.exec(src)?.[1]
  const merges = /const llama_merges_binary = "([^"]+)"/.exec(src)?.[1]
  if (!vocab || !merges) throw new Error(`${file} does not hold the Llama-2 vocabulary and merges where expected (llama-tokenizer-js 1.2 is required)`)
  const pieces = Buffer.from(vocab, "base64").toString("utf8").split("\n")
  const bytes = Buffer.from(merges, "base64")
  const rank = new Map<number, number>()
  // u16 little-endian id pairs, in priority order
  for (let i = 0, r = 0; i + 3 < bytes.length; i += 4, r++) {
    const key = bytes.readUInt16LE(i) * PAIR + bytes.readUInt16LE(i + 2)
    if (!rank.has(key)) rank.set(key, r)
  }
  shipped = { pieces, rank }
  return shipped
}

export interface EncodeOptions {
  readonly bos?: boolean
  readonly eos?: boolean
}

export class LlamaTokenizer {
  readonly vocabSize: number
  /** the longest piece, in UTF-16 units */
  readonly maxPieceLength: number
  private readonly ids = new Map<string, number>()
  /** pair key → index into pairRank / pairMerged (only pairs whose concatenation is a piece) */
  private readonly pairs = new Map<number, number>()
  private readonly pairRank: Int32Array
  private readonly pairMerged: Int32Array
  private readonly byteIds: Int32Array
  private readonly cache = new Map<string, Int32Array>()
  /** id of each single UTF-16 unit that is a piece, else -1 */
  private readonly charIds = new Int32Array(65536).fill(-1)
  // scratch space of merge()
  private sym = new Int32Array(0)
  private mergeable = new Uint8Array(0)
  private next = new Int32Array(0)
  private prev = new Int32Array(0)
  private readonly heap = new PairHeap()

  constructor(
    readonly vocab: LlamaVocab = llamaVocab(),
    private readonly cacheLimit = 200_000
  ) {
    this.vocabSize = vocab.pieces.length
    this.maxPieceLength = vocab.pieces.reduce((m, p) => (p.startsWith("<") && p.endsWith(">") ? m : Math.max(m, p.length)), 1)
    vocab.pieces.forEach((p, i) => {
      this.ids.set(p, i)
      if (p.length === 1) this.charIds[p.charCodeAt(0)] = i
    })
    const ranks: Array<number> = []
    const merged: Array<number> = []
    for (const [key, r] of vocab.rank) {
      const id = this.ids.get(vocab.pieces[Math.floor(key / PAIR)]! + vocab.pieces[key % PAIR]!)
      if (id === undefined) continue
      this.pairs.set(key, ranks.length)
      ranks.push(r)
      merged.push(id)
    }
    this.pairRank = Int32Array.from(ranks)
    this.pairMerged = Int32Array.from(merged)
    this.byteIds = Int32Array.from({ length: 256 }, (_, b) => this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`) ?? UNK)
  }

  encode(text: string, options: EncodeOptions = {}): Array<number> {
    const out: Array<number> = []
    if (options.bos) out.push(BOS)
    if (text.length > 0) {
      // words: a run of spaces and what follows up to the next space (merges never cross these
      // starts); the dummy prefix is a space before the first word. Words are cached as raw text.
      let start = 0
      for (let i = 1; i <= text.length; i++) {
        if (i === text.length || (text.charCodeAt(i) === 32 && text.charCodeAt(i - 1) !== 32)) {
          const ids = this.word(start === 0 ? " " + text.slice(0, i) : text.slice(start, i))
          for (let j = 0; j < ids.length; j++) out.push(ids[j]!)
          start = i
        }
      }
    }
    if (options.eos) out.push(EOS)
    return out
  }

  decode(ids: ReadonlyArray<number>): string {
    const bytes: Array<number> = []
    const parts: Array<string> = []
    const flush = () => {
      if (bytes.length) parts.push(Buffer.from(bytes).toString("utf8"))
      bytes.length = 0
    }
    for (const id of ids) {
      if (id === BOS || id === EOS || id === UNK) continue
      const p = this.vocab.pieces[id] ?? ""
      if (id >= 3 && id < 259) bytes.push(parseInt(p.slice(3, 5), 16))
      else {
        flush()
        parts.push(p)
      }
    }
    flush()
    const text = parts.join("").replaceAll(SPACE, " ")
    return text.startsWith(" ") ? text.slice(1) : text
  }

  /** The ids of one word, merged once and then served from the cache. */
  private word(w: string): Int32Array {
    const hit = this.cache.get(w)
    if (hit) return hit
    const ids = this.merge(w.replaceAll(" ", SPACE))
    if (this.cache.size >= this.cacheLimit) this.cache.clear()
    this.cache.set(w, ids)
    return ids
  }

  /**
   * BPE over one word. Symbols are code points (a character outside the vocabulary becomes its
   * bytes, which never merge) in a linked list; candidate pairs wait in a heap ordered by (merge
   * rank, position), so each round takes the best-ranked pair, leftmost first, in O(log n). Entries
   * made stale by an earlier merge are recognised by their ids and skipped.
   */
  private merge(w: string): Int32Array {
    // symbols into reusable scratch arrays (a word can be long: grow them as needed)
    if (this.sym.length < 4 * w.length + 4) this.grow(4 * w.length + 4)
    const { sym, mergeable, next, prev, heap } = this
    let n = 0
    for (let k = 0; k < w.length; k++) {
      const code = w.charCodeAt(k)
      let id = this.charIds[code]!
      let width = 1
      if (code >= 0xd800 && code <= 0xdbff && k + 1 < w.length) {
        // a surrogate pair: one code point of two UTF-16 units
        width = 2
        id = this.ids.get(w.slice(k, k + 2)) ?? -1
      }
      if (id >= 0) {
        sym[n] = id
        mergeable[n++] = 1
      } else {
        for (const b of Buffer.from(w.slice(k, k + width), "utf8")) {
          sym[n] = this.byteIds[b]!
          mergeable[n++] = 0
        }
      }
      k += width - 1
    }
    if (n < 2) return sym.slice(0, n)
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1
      prev[i] = i - 1
    }
    heap.size = 0
    const consider = (i: number) => {
      const j = next[i]!
      if (j < 0 || !mergeable[i] || !mergeable[j]) return
      const entry = this.pairs.get(sym[i]! * PAIR + sym[j]!)
      if (entry !== undefined) heap.push(this.pairRank[entry]!, i, sym[i]!, sym[j]!)
    }
    for (let i = 0; i + 1 < n; i++) consider(i)
    while (heap.size > 0) {
      heap.pop()
      const i = heap.topPos
      const j = next[i]!
      // stale: the left symbol was merged away (its id changed or it lost its right neighbour)
      if (j < 0 || sym[i] !== heap.topLeft || sym[j] !== heap.topRight || prev[j] !== i) continue
      sym[i] = this.pairMerged[this.pairs.get(heap.topLeft * PAIR + heap.topRight)!]!
      next[i] = next[j]!
      if (next[j]! >= 0) prev[next[j]!] = i
      prev[j] = -2 // j is gone
      if (prev[i]! >= 0) consider(prev[i]!)
      consider(i)
    }
    let count = 0
    for (let i = 0; i >= 0; i = next[i]!) count++
    const out = new Int32Array(count)
    for (let i = 0, k = 0; i >= 0; i = next[i]!) out[k++] = sym[i]!
    return out
  }

  private grow(size: number): void {
    this.sym = new Int32Array(size)
    this.mergeable = new Uint8Array(size)
    this.next = new Int32Array(size)
    this.prev = new Int32Array(size)
  }
}

/** A binary min-heap of candidate merges by (rank, position), in parallel typed arrays. */
class PairHeap {
  size = 0
  private rank = new Int32Array(64)
  private pos = new Int32Array(64)
  private left = new Int32Array(64)
  private right = new Int32Array(64)

  private less(a: number, b: number): boolean {
    return this.rank[a]! < this.rank[b]! || (this.rank[a] === this.rank[b] && this.pos[a]! < this.pos[b]!)
  }

  private swap(a: number, b: number): void {
    const { rank, pos, left, right } = this
    let t = rank[a]!
    rank[a] = rank[b]!
    rank[b] = t
    t = pos[a]!
    pos[a] = pos[b]!
    pos[b] = t
    t = left[a]!
    left[a] = left[b]!
    left[b] = t
    t = right[a]!
    right[a] = right[b]!
    right[b] = t
  }

  push(rank: number, pos: number, left: number, right: number): void {
    if (this.size === this.rank.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2)
        b.set(a)
        return b
      }
      this.rank = grow(this.rank)
      this.pos = grow(this.pos)
      this.left = grow(this.left)
      this.right = grow(this.right)
    }
    let i = this.size++
    this.rank[i] = rank
    this.pos[i] = pos
    this.left[i] = left
    this.right[i] = right
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  topPos = 0
  topLeft = 0
  topRight = 0

  /** Removes the smallest entry into topPos / topLeft / topRight. */
  pop(): void {
    this.topPos = this.pos[0]!
    this.topLeft = this.left[0]!
    this.topRight = this.right[0]!
    this.size--
    if (this.size > 0) {
      this.swap(0, this.size)
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.size && this.less(l, m)) m = l
        if (r < this.size && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
  }
}

let shared: LlamaTokenizer | undefined
/** One tokenizer per thread (building the tables takes ~100 ms). */
export const llamaTokenizer = (): LlamaTokenizer => (shared ??= new LlamaTokenizer())

/**
 * The vocabulary and merges as a Hugging Face `tokenizer.json` (the `tokenizers` library's format
 * for Llama-2: BPE with byte fallback, a "▁" prepended and spaces replaced by "▁"; the decoder
 * undoes both), so a model trained on these ids loads with its tokenizer in `transformers`.
 * Merges are listed in priority order, only those whose concatenation is a piece (the rest never fire).
 */
export const llamaTokenizerJson = (vocab: LlamaVocab = llamaVocab()): Record<string, unknown> => {
  const ids = new Map(vocab.pieces.map((p, i) => [p, i]))
  const merges = [...vocab.rank]
    .sort((a, b) => a[1] - b[1])
    .map(([key]) => [vocab.pieces[Math.floor(key / PAIR)]!, vocab.pieces[key % PAIR]!] as const)
    .filter(([l, r]) => ids.has(l + r))
    .map(([l, r]) => `${l} ${r}`)
  const special = (id: number) => ({ id, content: vocab.pieces[id]!, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })
  const bos = { SpecialToken: { id: "<s>", type_id: 0 } }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(UNK), special(BOS), special(EOS)],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: SPACE },
        { type: "Replace", pattern: { String: " " }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [bos, { Sequence: { id: "A", type_id: 0 } }],
      pair: [bos, { Sequence: { id: "A", type_id: 0 } }, bos, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { "<s>": { id: "<s>", ids: [BOS], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [{ type: "Replace", pattern: { String: SPACE }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }],
    },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab: Object.fromEntries(ids), merges },
  }
}

/** Reads a `tokenizer.json` written by {@link llamaTokenizerJson} back into a vocabulary. */
export const vocabFromTokenizerJson = (json: { model?: { vocab?: Record<string, number>; merges?: ReadonlyArray<string> } }): LlamaVocab => {
  const v = json.model?.vocab
  const m = json.model?.merges
  if (!v || !m) throw new Error("tokenizer.json has no model.vocab / model.merges")
  const pieces: Array<string> = []
  for (const [p, i] of Object.entries(v)) pieces[i] = p
  const rank = new Map<number, number>()
  m.forEach((line, r) => {
    const sp = line.indexOf(" ", 1) // "▁ t": a piece never starts with a space, but may be "▁"
    const l = v[line.slice(0, sp)]
    const rr = v[line.slice(sp + 1)]
    if (l !== undefined && rr !== undefined && !rank.has(l * PAIR + rr)) rank.set(l * PAIR + rr, r)
  })
  return { pieces, rank }
}
