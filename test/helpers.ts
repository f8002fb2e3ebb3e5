/**
 * Test helpers. CLI tests spawn the real `dag` (bin/dag.cjs → dist/) against temporary store and
 * runs folders; in-process tests run the engine with swapped Layers (inline executor, silent
 * progress) and real DuckDB and files.
 */
import { Effect, Either, Layer } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Journal, RunJournal, emptyNodeLog, newRecord, newRunId, type RunRecord } from "../engine/journal.js"
import { resolveParams, parseOverride } from "../engine/params.js"
import type { Pipeline } from "../engine/pipeline.js"
import { ShardExecutor, type Executor } from "../engine/exec/pool.js"
import { ProgressBar, type Progress } from "../engine/exec/progress.js"
import { runPipeline } from "../engine/exec/runner.js"
import { ArtifactStore, Store } from "../engine/store/store.js"

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const BIN = path.join(ROOT, "bin", "dag.cjs")

export const tempDir = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `mathdag-${prefix}-`))

export interface Sandbox {
  readonly dir: string
  readonly store: string
  readonly runs: string
  readonly env: NodeJS.ProcessEnv
}

export const sandbox = (prefix: string): Sandbox => {
  const dir = tempDir(prefix)
  const store = path.join(dir, "store")
  const runs = path.join(dir, "runs")
  // DAG_ROOT: the project is this repository, whichever folder a test runs the CLI in
  return { dir, store, runs, env: { ...process.env, DAG_ROOT: ROOT, DAG_STORE: store, DAG_RUNS: runs, DAG_NO_REBUILD: "1", CI: "true" } }
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const dag = (box: Sandbox, args: ReadonlyArray<string>, options: { input?: string } = {}): CliResult => {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: box.env, cwd: box.dir, encoding: "utf8", input: options.input ?? "", timeout: 120_000 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** Like `dag`, without blocking this process (needed when the test itself serves HTTP). */
export const dagAwait = (box: Sandbox, args: ReadonlyArray<string>): Promise<CliResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: box.env, cwd: box.dir, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })

/**
 * spawnSync's result, without blocking this test worker: vitest's worker must answer its runner's
 * calls within a minute, and a child that runs long on a loaded machine would keep it from that.
 */
export const spawnAwait = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly timeout?: number; readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {}
): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const timer = options.timeout ? setTimeout(() => child.kill("SIGTERM"), options.timeout) : undefined
    child.on("close", (code) => {
      if (timer) clearTimeout(timer)
      resolve({ status: code, stdout, stderr })
    })
  })

export const dagAsync = (box: Sandbox, args: ReadonlyArray<string>) => spawn(process.execPath, [BIN, ...args], { env: box.env, cwd: box.dir, stdio: ["ignore", "pipe", "pipe"] })

export interface JsonSummary {
  readonly run: string
  readonly nodes: ReadonlyArray<{
    readonly node: string
    readonly status: string
    readonly shards: { total: number; cached: number; computed: number }
    readonly rows: { in: number; out: number }
    readonly dropped: Record<string, number>
  }>
}

/** The `--json` summary: the last line of stdout. */
export const summary = (r: CliResult): JsonSummary => {
  const last = r.stdout.trim().split("\n").at(-1) ?? ""
  try {
    return JSON.parse(last) as JsonSummary
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  }
}

export const nodeOf = (s: JsonSummary, name: string) => {
  const n = s.nodes.find((x) => x.node === name)
  if (!n) throw new Error(`node ${name} not in summary: ${s.nodes.map((x) => x.node).join(", ")}`)
  return n
}

/** A folder of demo input files (copies of samples/demo plus `extra` generated ones). */
export const demoInputs = (box: Sandbox, extra = 0): string => {
  const dir = path.join(box.dir, "input")
  fs.mkdirSync(dir, { recursive: true })
  for (const f of fs.readdirSync(path.join(ROOT, "samples/demo"))) fs.copyFileSync(path.join(ROOT, "samples/demo", f), path.join(dir, f))
  for (let i = 0; i < extra; i++) {
    const paras = Array.from({ length: 30 }, (_, j) => `Paragraph ${j} of generated file ${i}: the sum of the first ${j + i} odd numbers is the square of ${j + i}, a fact proved by induction.`)
    fs.writeFileSync(path.join(dir, `gen-${String(i).padStart(3, "0")}.txt`), paras.join("\n\n"))
  }
  return path.join(dir, "*.txt")
}

/** The files of the store's derived cache (the reports' cached query results). */
export const derivedEntries = (box: Sandbox): Array<string> => {
  const root = path.join(box.store, "derived")
  return fs.existsSync(root)
    ? fs
        .readdirSync(root, { recursive: true })
        .map((f) => path.join(root, String(f)))
        .filter((f) => f.endsWith(".json"))
    : []
}

export const readRunRecord = (box: Sandbox, id: string): RunRecord => JSON.parse(fs.readFileSync(path.join(box.runs, id, "run.json"), "utf8")) as RunRecord

/** Runs a pipeline in this process with test Layers: inline (or given) executor, silent progress. */
export const runInProcess = async (
  pipeline: Pipeline,
  dirs: { store: string; runs: string },
  options: { params?: ReadonlyArray<string>; executor?: Executor; force?: ReadonlyArray<string>; retries?: number; progress?: Progress } = {}
): Promise<{ ok: boolean; record: RunRecord }> => {
  const names = pipeline.nodes.map((pn) => pn.node.name)
  const overrides = (options.params ?? []).map((f) => Either.getOrThrow(parseOverride(f, names)))
  const params = Either.getOrThrow(resolveParams(pipeline, [], overrides))
  const runId = newRunId()
  const record = newRecord({
    run: runId,
    pipeline: pipeline.name,
    profile: "test",
    dryRun: false,
    argv: [],
    overrides: options.params ?? [],
    nodes: pipeline.nodes.map((pn) => emptyNodeLog(pn.node.name, pn.node.kind, params.encoded.get(pn.node.name))),
  })
  const journal = new Journal(dirs.runs, record)
  const store = new Store(dirs.store)
  store.init()
  const layer = Layer.mergeAll(
    Layer.succeed(ArtifactStore, store),
    Layer.succeed(RunJournal, journal),
    options.progress ? Layer.succeed(ProgressBar, options.progress) : ProgressBar.silent,
    options.executor ? Layer.succeed(ShardExecutor, options.executor) : ShardExecutor.inline(2)
  )
  const result = await Effect.runPromise(
    Effect.tapErrorCause(
      runPipeline({ pipeline, params, select: [], force: options.force ?? [], dryRun: false, verify: false, concurrency: 4, retries: options.retries ?? 2 }, runId).pipe(Effect.provide(layer)),
      (c) => Effect.sync(() => console.error(String(c)))
    )
  )
  journal.finish(result.ok ? "ok" : "failed")
  return { ok: result.ok, record }
}

/** Polls `check` until it holds or `timeoutMs` passes; says which. */
export const waitFor = async (check: () => boolean, timeoutMs: number, everyMs = 25): Promise<boolean> => {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return false
}
