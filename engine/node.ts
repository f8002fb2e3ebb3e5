/**
 * Nodes are plain values made by three constructors: `Node.source`, `Node.map`, `Node.global`.
 * A node declares what it reads and writes (row Schemas), its params (an Effect Schema with
 * defaults) and a version; the engine derives everything else (cache keys, views, reports).
 */
import type { Effect } from "effect"
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { sha256 } from "./hash.js"
import { distDir } from "./paths.js"
import type { NodeRunError } from "./errors.js"
import type { Cell } from "./report/cell.js"

// ---------------------------------------------------------------- outcomes of a row function

export type Outcome<O> = { readonly _tag: "Keep"; readonly rows: ReadonlyArray<O> } | { readonly _tag: "Drop"; readonly reason: string }

/** Keep one row (possibly transformed). */
export const Keep = <O>(row: O): Outcome<O> => ({ _tag: "Keep", rows: [row] })
/** Emit zero or more rows for one input row (a flat-map). Zero rows is not a drop: it has no reason. */
export const KeepAll = <O>(rows: ReadonlyArray<O>): Outcome<O> => ({ _tag: "Keep", rows })
/** Drop the row; `reason` becomes a funnel count of the node. */
export const Drop = (reason: string): Outcome<never> => ({ _tag: "Drop", reason })

// ---------------------------------------------------------------- port declarations

/** A dataset port: a sharded table whose rows match `schema`. */
export interface DatasetPort<S extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext> {
  readonly _tag: "Dataset"
  readonly schema: S
}
/** A file port: one opaque file (a model, a tokenizer, a JSON summary). */
export interface FilePort {
  readonly _tag: "File"
  readonly extension: string
  /** the name `dag export` gives the file (e.g. `config.json`, where other tools expect that name) */
  readonly fileName?: string
}
export type Port = DatasetPort | FilePort

export const Dataset = <S extends Schema.Schema.AnyNoContext>(schema: S): DatasetPort<S> => ({ _tag: "Dataset", schema })
export const File = (extension: string, options: { readonly fileName?: string } = {}): FilePort => ({ _tag: "File", extension, ...(options.fileName ? { fileName: options.fileName } : {}) })

// ---------------------------------------------------------------- references used in wiring

/**
 * A handle to one output of a node inside a pipeline. The phantom `_A` makes the row type
 * invariant, so a dataset of rows A plugs only into an input that declares rows A.
 */
export interface DatasetRef<A> {
  readonly _tag: "DatasetRef"
  readonly node: string
  readonly output: string
  readonly _A?: (a: A) => A
}
export interface FileRef {
  readonly _tag: "FileRef"
  readonly node: string
  readonly output: string
}
export type AnyRef = DatasetRef<any> | FileRef

export type RefOf<P> = P extends DatasetPort<infer S> ? DatasetRef<Schema.Schema.Type<S>> : FileRef
export type RefsOf<Ports extends Record<string, Port>> = { readonly [K in keyof Ports]: RefOf<Ports[K]> }

// ---------------------------------------------------------------- run-time contexts

export interface RowReader<A> {
  /** Content hashes of the input shards, in order. */
  readonly shards: ReadonlyArray<string>
  /** Parquet paths of the shards (verified), for SQL over the input (`read_parquet([...])`). */
  readonly paths: () => Effect.Effect<ReadonlyArray<string>, NodeRunError>
  readonly rows: () => AsyncIterable<A>
  /** How many rows the input holds (from its manifest): the total for `ctx.progress`. */
  readonly rowCount: number
}
export interface FileReader {
  readonly path: () => Effect.Effect<string, NodeRunError>
}
export type ReaderOf<P> = P extends DatasetPort<infer S> ? RowReader<Schema.Schema.Type<S>> : FileReader

export interface DatasetWriter<A> {
  /** Appends rows; the writer cuts them into shards of `rowsPerShard`. */
  readonly write: (rows: Iterable<A> | AsyncIterable<A>) => Effect.Effect<void, NodeRunError>
  /** Writes the result of a DuckDB query over the node's views as this output (streamed, no JS arrays). */
  readonly writeQuery: (sql: string) => Effect.Effect<void, NodeRunError>
}
export interface FileWriter {
  /** Gives a temporary path to write to; the engine hashes and commits it afterwards. */
  readonly write: (fill: (path: string) => Promise<void>) => Effect.Effect<void, NodeRunError>
}
export type WriterOf<P> = P extends DatasetPort<infer S> ? DatasetWriter<Schema.Schema.Type<S>> : FileWriter

/** Where a long global node stands: shown live (with an ETA) while it runs. */
export interface StepProgress {
  readonly done: number
  readonly total: number
  /** what is counted: "steps", "examples", "subsets" */
  readonly unit: string
  /** a short live figure, e.g. "loss 2.91 · 640 tokens/s" */
  readonly note?: string
}

export interface GlobalContext<P, Ins extends Record<string, Port>, Outs extends Record<string, Port>> {
  readonly params: P
  readonly inputs: { readonly [K in keyof Ins]: ReaderOf<Ins[K]> }
  readonly outputs: { readonly [K in keyof Outs]: WriterOf<Outs[K]> }
  /** Runs SQL in DuckDB where every dataset input is a view named after its input key. */
  readonly sql: (query: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, NodeRunError>
  /** Streams a query's rows (BIGINTs as numbers), for results too large to hold: consume before the next SQL. */
  readonly stream: (query: string) => Effect.Effect<AsyncIterable<Record<string, unknown>>, NodeRunError>
  /**
   * Creates a table in the node's DuckDB session and appends rows to it (DuckDB holds them and
   * spills to disk, so large intermediate data never lives in JS arrays). Columns: name → SQL type.
   */
  readonly table: (name: string, columns: Readonly<Record<string, string>>, rows: AsyncIterable<ReadonlyArray<unknown>> | Iterable<ReadonlyArray<unknown>>) => Effect.Effect<number, NodeRunError>
  /** Records `count` dropped rows with `reason` (funnel counts for global nodes), with an optional sample row. */
  readonly drop: (reason: string, count?: number, sample?: unknown) => void
  readonly log: (message: string) => void
  /** Reports progress (e.g. training step 40 of 80); cheap to call often, the display samples it. */
  readonly progress: (p: StepProgress) => void
  /**
   * A folder that survives a failed or interrupted attempt of this node with the same key (and is
   * removed once the node succeeds): where long work keeps checkpoints to resume from.
   */
  readonly scratch: string
  /** This computation's cache key: a checkpoint stamped with it is resumed only by the same computation. */
  readonly key: string
}

export interface SourceUnit {
  /** Stable id of the unit (a path, a URL); becomes the lineage of its shard. */
  readonly id: string
  /** Content identity of the unit (a content hash); a change recomputes this unit's shard only. */
  readonly fingerprint: string
  readonly [k: string]: unknown
}

// ---------------------------------------------------------------- node kinds

interface Common<P> {
  readonly name: string
  readonly version: number
  readonly description?: string
  readonly params: Schema.Schema<P, any, never>
  /** Runtime facts that change outputs (a tokenizer version); part of the cache key. */
  readonly runtime?: Readonly<Record<string, string>>
  /** Cells this node adds to run reports (queries see its output as `self`). */
  readonly report?: ReadonlyArray<Cell>
  /** Files read besides the inputs (models, word lists, test sets): their contents enter the cache key. */
  readonly externals?: (params: P) => ReadonlyArray<string>
  /** Hash of the node's own functions' source, filled in by the constructor. */
  readonly codeHash: string
}

export interface SourceNode<P = any, O = any> extends Common<P> {
  readonly kind: "source"
  readonly output: DatasetPort<Schema.Schema<O, any, never>>
  /** Lists the units of work (one output shard each) and their fingerprints. */
  readonly units: (params: P) => Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError>
  /** Streams the rows of one unit. Bad records are dropped with `ctx.drop(reason)`, never thrown. */
  readonly read: (unit: SourceUnit, params: P, ctx: { drop: (reason: string, sample?: unknown) => void }) => AsyncIterable<O> | Iterable<O>
  /** Read units on worker threads (parsing-heavy sources: JSON Lines, WARC). */
  readonly worker: boolean
}

export interface MapNode<P = any, I = any, O = any, R = any> extends Common<P> {
  readonly kind: "map"
  readonly input: DatasetPort<Schema.Schema<I, any, never>>
  readonly output: DatasetPort<Schema.Schema<O, any, never>>
  /**
   * Loads what the row function needs (a model, a vocabulary) once per thread and params;
   * its result is the row function's third argument.
   */
  readonly setup?: (params: P) => Promise<R>
  readonly row: (row: I, params: P, resources: R) => Outcome<O>
  /** Run this node's shards on worker threads (CPU-heavy row functions). */
  readonly worker: boolean
}

export interface GlobalNode<P = any, Ins extends Record<string, Port> = any, Outs extends Record<string, Port> = any> extends Common<P> {
  readonly kind: "global"
  readonly inputs: Ins
  readonly outputs: Outs
  readonly rowsPerShard: number
  readonly run: (ctx: GlobalContext<P, Ins, Outs>) => Effect.Effect<void, NodeRunError>
  /**
   * Run on a worker thread of its own: for long synchronous JavaScript (TF.js training and
   * evaluation) that would otherwise freeze progress, Ctrl-C and every other node's I/O. A function
   * decides per run (from the params, or what is installed).
   */
  readonly worker: boolean | ((params: P) => boolean)
}

export type AnyNode = SourceNode | MapNode | GlobalNode

const NAME = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/

const checkName = (name: string) => {
  if (!NAME.test(name)) {
    throw new Error(`node name "${name}" is invalid: use lowercase words joined by "/", "-" or "_" (e.g. "owm/extract")`)
  }
}

const codeHashes = new Map<string, string>()

let moduleHashes: Readonly<Record<string, string>> | undefined
/**
 * Hashes of the source files each node's file imports under nodes/ (written by the build into
 * dist/code-hashes.json), so an edited helper recomputes the nodes that use it.
 */
const moduleHashOf = (name: string): string => {
  if (!moduleHashes) {
    try {
      moduleHashes = JSON.parse(fs.readFileSync(path.join(distDir(), "code-hashes.json"), "utf8")) as Record<string, string>
    } catch {
      moduleHashes = {}
    }
  }
  return moduleHashes[name] ?? ""
}

/** Hash of the node's functions' source text and of its file's imports (memoised: factories reuse one function). */
const codeHashOf = (name: string, ...fns: ReadonlyArray<unknown>): string => {
  const text = moduleHashOf(name) + "\u0000" + fns.map((f) => (typeof f === "function" ? f.toString() : "")).join("\u0000")
  let h = codeHashes.get(text)
  if (h === undefined) {
    h = sha256(text)
    codeHashes.set(text, h)
  }
  return h
}

const NoParams = Schema.Struct({})
type NoParamsType = Schema.Schema.Type<typeof NoParams>

/** What every node declaration has, whatever its kind. */
interface Declaration<P> {
  readonly name: string
  readonly version: number
  readonly description?: string
  readonly params?: Schema.Schema<P, any, never>
  readonly runtime?: Readonly<Record<string, string>>
  readonly report?: ReadonlyArray<Cell>
  readonly externals?: (params: P) => ReadonlyArray<string>
}

export const source = <O, P = NoParamsType>(
  def: Declaration<P> & {
    readonly output: Schema.Schema<O, any, never>
    readonly units: SourceNode<P, O>["units"]
    readonly read: SourceNode<P, O>["read"]
    readonly worker?: boolean
  }
): SourceNode<P, O> => {
  checkName(def.name)
  return {
    ...def,
    kind: "source",
    params: (def.params ?? NoParams) as Schema.Schema<P, any, never>,
    output: Dataset(def.output),
    worker: def.worker ?? false,
    codeHash: codeHashOf(def.name, def.units, def.read),
  }
}

export const map = <I, O, P = NoParamsType, R = undefined>(
  def: Declaration<P> & {
    readonly input: Schema.Schema<I, any, never>
    readonly output: Schema.Schema<O, any, never>
    readonly setup?: (params: P) => Promise<R>
    readonly row: (row: I, params: P, resources: R) => Outcome<O>
    readonly worker?: boolean
  }
): MapNode<P, I, O, R> => {
  checkName(def.name)
  return {
    ...def,
    kind: "map",
    params: (def.params ?? NoParams) as Schema.Schema<P, any, never>,
    input: Dataset(def.input),
    output: Dataset(def.output),
    worker: def.worker ?? false,
    codeHash: codeHashOf(def.name, def.row, def.setup),
  }
}

export const global = <Ins extends Record<string, Port>, Outs extends Record<string, Port>, P = NoParamsType>(
  def: Declaration<P> & {
    readonly inputs: Ins
    readonly outputs: Outs
    readonly rowsPerShard?: number
    readonly worker?: boolean | ((params: P) => boolean)
    readonly run: (ctx: GlobalContext<P, Ins, Outs>) => Effect.Effect<void, NodeRunError>
  }
): GlobalNode<P, Ins, Outs> => {
  checkName(def.name)
  if (Object.keys(def.outputs).length === 0) throw new Error(`node "${def.name}" declares no outputs`)
  return {
    ...def,
    kind: "global",
    params: (def.params ?? NoParams) as Schema.Schema<P, any, never>,
    rowsPerShard: def.rowsPerShard ?? 100_000,
    worker: def.worker ?? false,
    codeHash: codeHashOf(def.name, def.run),
  }
}

/** Whether a global node runs on a worker thread of its own with these params. */
export const onOwnThread = (node: GlobalNode, params: unknown): boolean => (typeof node.worker === "function" ? node.worker(params) : node.worker)

/** Output ports of any node kind, by name. Source and map nodes have one output named "out". */
export const outputPorts = (node: AnyNode): Record<string, Port> => (node.kind === "global" ? node.outputs : { out: node.output })

/** Input ports of any node kind, by name. A map node has one input named "in". */
export const inputPorts = (node: AnyNode): Record<string, Port> => (node.kind === "global" ? node.inputs : node.kind === "map" ? { in: node.input } : {})
