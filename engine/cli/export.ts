/** `dag export NODE --format parquet|arrow|jsonl|<an extension's> --out DIR`: copy a node's outputs out of the store. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { createRequire } from "node:module"
import { quoteIdent, type Column, type ColumnType } from "../columns.js"
import { InputError, NotFoundError, StoreError } from "../errors.js"
import type { ExportFormat } from "../extension.js"
import { extensionExportFormats } from "./extensions.js"
import { suggest } from "../suggest.js"
import { viewName } from "../inspect/views.js"
import { connect, jsSafe, queryRows, readShardRows, sqlString } from "../store/duckdb.js"
import type { DatasetManifest, Store } from "../store/store.js"
import { getRun, loadSettings, wantedPipeline, openStore } from "./context.js"
import { nodeArg, pipelineRunOption, profileOption, runOption } from "./options.js"
import { bytes, num } from "./format.js"

type Arrow = typeof import("apache-arrow")
const loadArrow = (): Arrow => createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)("apache-arrow") as Arrow

const arrowType = (a: Arrow, t: ColumnType): InstanceType<Arrow["DataType"]> => {
  switch (t.kind) {
    case "string":
      return new a.Utf8()
    case "double":
      return new a.Float64()
    case "int":
      return new a.Int64()
    case "bool":
      return new a.Bool()
    case "list":
      return new a.List(new a.Field("item", arrowType(a, t.of), true))
    case "struct":
      return new a.Struct(t.fields.map((f) => new a.Field(f.name, arrowType(a, f.type), f.nullable)))
  }
}

const toArrowValue = (t: ColumnType, v: unknown): unknown =>
  v === null || v === undefined
    ? null
    : t.kind === "int"
      ? BigInt(v as number)
      : t.kind === "list"
        ? (v as Array<unknown>).map((x) => toArrowValue(t.of, x))
        : t.kind === "struct"
          ? Object.fromEntries(t.fields.map((f) => [f.name, toArrowValue(f.type, (v as Record<string, unknown>)[f.name])]))
          : v

/** One Arrow IPC file per shard; string columns are built as plain Utf8 vectors (not dictionaries). */
const writeArrowShard = async (file: string, columns: ReadonlyArray<Column>, out: string) => {
  const a = loadArrow()
  const values: Record<string, Array<unknown>> = Object.fromEntries(columns.map((c) => [c.name, []]))
  for await (const row of readShardRows(file, columns)) for (const c of columns) values[c.name]!.push(toArrowValue(c.type, row[c.name]))
  const vectors = Object.fromEntries(columns.map((c) => [c.name, a.vectorFromArray(values[c.name]!, arrowType(a, c.type) as never)]))
  const table = new a.Table(vectors)
  fs.writeFileSync(out, a.tableToIPC(table, "file"))
}

const exportDataset = async (store: Store, m: DatasetManifest, base: string, format: string, dir: string): Promise<Array<string>> => {
  const files: Array<string> = []
  for (const [i, s] of m.shards.entries()) {
    const src = store.objectPath(s.hash, ".parquet")
    const dest = path.join(dir, `${base}-${String(i).padStart(5, "0")}.${format === "jsonl" ? "jsonl" : format}`)
    if (format === "parquet") fs.copyFileSync(src, dest)
    else if (format === "arrow") await writeArrowShard(src, m.columns, dest)
    else {
      const c = await connect()
      try {
        await c.run(`COPY (SELECT * FROM read_parquet(${sqlString(src)})) TO ${sqlString(dest)} (FORMAT json)`)
      } finally {
        c.closeSync()
      }
    }
    files.push(dest)
  }
  return files
}

/** Runs an extension's export format over a dataset's shards, through one DuckDB connection. */
const exportWithFormat = async (format: ExportFormat, store: Store, m: DatasetManifest, name: string, dir: string) => {
  const c = await connect()
  try {
    const files = m.shards.map((s) => sqlString(store.objectPath(s.hash, ".parquet"))).join(", ")
    const cols = m.columns.map((col) => `${quoteIdent(col.name)}`).join(", ")
    return await format.write({
      name,
      source: m.shards.length ? `read_parquet([${files}])` : `(SELECT ${cols} FROM (SELECT 1) WHERE false)`,
      columns: m.columns.map((col) => col.name),
      out: path.resolve(dir),
      query: async (q) => (await queryRows(c, q)).rows,
      stream: async (q) => {
        const r = await c.stream(q)
        return (async function* () {
          for await (const batch of r.yieldRowObjectJs()) for (const row of batch) yield jsSafe(row) as Record<string, unknown>
        })()
      },
    })
  } finally {
    c.closeSync()
  }
}

const BUILT_IN = ["parquet", "arrow", "jsonl"] as const

export const exportCommand = Command.make(
  "export",
  {
    node: nodeArg("the node whose outputs to export"),
    format: Options.text("format").pipe(
      Options.withDefault("parquet"),
      Options.withDescription(
        `parquet (the shards as they are), arrow (Arrow IPC files), jsonl${[...extensionExportFormats()].map(([k, f]) => `, ${k} (${f.description})`).join("")}; e.g. --format jsonl; default: parquet`
      )
    ),
    out: Options.directory("out", { exists: "either" }).pipe(Options.withDescription("folder to write into (created if missing), e.g. --out exports/owm")),
    run: runOption("the latest successful run holding NODE's outputs"),
    pipeline: pipelineRunOption,
    profile: profileOption,
  },
  (o) =>
    Effect.gen(function* () {
      const settings = yield* loadSettings(Option.getOrUndefined(o.profile))
      const extra = extensionExportFormats().get(o.format)
      if (!extra && !(BUILT_IN as ReadonlyArray<string>).includes(o.format)) {
        const known = [...BUILT_IN, ...extensionExportFormats().keys()]
        const hint = suggest(o.format, known)
        return yield* Effect.fail(new InputError({ message: `unknown --format "${o.format}"${hint ? `; did you mean "${hint}"?` : ""} Formats: ${known.join(", ")}` }))
      }
      const run = yield* getRun(settings, Option.getOrUndefined(o.run), { ...wantedPipeline(o.pipeline), node: o.node })
      const log = run.nodes.find((n) => n.node === o.node)
      if (!log || Object.keys(log.outputs).length === 0) {
        return yield* Effect.fail(
          new NotFoundError({
            what: "node",
            name: o.node,
            message: `run ${run.run} has no outputs for "${o.node}"; nodes: ${run.nodes
              .filter((n) => Object.keys(n.outputs).length)
              .map((n) => n.node)
              .join(", ")}`,
          })
        )
      }
      const store = openStore(settings)
      fs.mkdirSync(o.out, { recursive: true })
      const all = Object.entries(log.outputs)
      const picked = extra?.outputs?.(all.map(([k]) => k))
      const outs = picked ? all.filter(([k]) => picked.includes(k)) : all
      for (const [output, id] of outs) {
        const m = store.outputManifest(id, log.key, output)
        if (!m)
          return yield* Effect.fail(new NotFoundError({ what: "artifact", name: id, message: `artifact ${id.slice(0, 12)} of ${o.node} is gone from the store (was it gc'd?); re-run the pipeline` }))
        const base = viewName(o.node, output, all.length)
        // Exports verify every shard first: a corrupt store never leaks into a user's files.
        const objects = m.kind === "file" ? [{ hash: m.hash, ext: `.${m.extension}` }] : m.shards.map((s) => ({ hash: s.hash, ext: ".parquet" }))
        yield* store.verifyObjects(objects)
        if (m.kind === "file") {
          // a plain base name only: a manifest never decides where outside --out a file lands
          const dest = path.join(o.out, m.fileName && path.basename(m.fileName) === m.fileName ? m.fileName : `${base}.${m.extension}`)
          fs.copyFileSync(store.objectPath(m.hash, `.${m.extension}`), dest)
          yield* Console.log(`${o.node}.${output} → ${dest} (${bytes(m.bytes)})`)
          continue
        }
        if (extra) {
          const lines = yield* Effect.tryPromise({
            try: () => exportWithFormat(extra, store, m, base, o.out),
            catch: (e) => new InputError({ message: `${o.node}.${output}: --format ${o.format}: ${(e as Error).message}` }),
          })
          for (const line of lines) yield* Console.log(line)
          continue
        }
        const files = yield* Effect.tryPromise({
          try: () => exportDataset(store, m, base, o.format, o.out),
          catch: (e) => new StoreError({ path: o.out, message: `export failed: ${(e as Error).message}`, transient: false }),
        })
        yield* Console.log(`${o.node}.${output} → ${files.length} ${o.format} file(s) in ${o.out} (${num(m.rows)} rows)`)
      }
    })
).pipe(Command.withDescription("Export a node's outputs of a run as Parquet, Arrow IPC, JSON Lines, or gpt-neox indexed datasets (--format neox)."))
