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
  external: ["@duckdb/node-api", "apache-arrow", "esbuild"],
  define: { "import.meta.url": "__import_meta_url" },
  banner: { js: "const __import_meta_url = require('url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  logLevel: "warning",
  write: false,
})
fs.mkdirSync(dist, { recursive: true })
for (const file of result.outputFiles) {
  // Atomic: a concurrently starting `dag` never loads a half-written bundle.
  const tmp = `${file.path}.${process.pid}.tmp`
  fs.writeFileSync(tmp, file.contents)
  fs.renameSync(tmp, file.path)
}
for (const f of fs.readdirSync(dist)) if (f.endsWith(".v8cache")) fs.rmSync(path.join(dist, f), { force: true })
const stamp = { builtAt: new Date().toISOString(), ms: Date.now() - started }
fs.writeFileSync(path.join(dist, "build.json"), JSON.stringify(stamp))
if (!process.env.DAG_QUIET_BUILD) console.error(`build: dist/dag.cjs and dist/worker.cjs in ${Date.now() - started} ms`)
