#!/usr/bin/env node
// Starts the `dag` CLI for the project around the current folder (the nearest folder with a
// dag.config.ts): bundles the engine with the project's config and pipelines when a source is newer
// than the bundle (dist/ for this package itself, <project>/.mathdag/build for any other project,
// dist/bare outside a project), then runs it through V8's code cache (run-bundle.cjs).
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const { PACKAGE_ROOT, buildDirFor, findProjectRoot, pipelineFiles } = require("../scripts/lib/project.cjs")

const project = process.env.DAG_ROOT || findProjectRoot(process.cwd())
const dist = buildDirFor(project)
const bundle = path.join(dist, "dag.cjs")
const stampFile = path.join(dist, "build.json")

/** Whether the bundle is missing or older than a source it was built from, or the pipelines changed. */
function stale() {
  let stamp
  try { stamp = JSON.parse(fs.readFileSync(stampFile, "utf8")) } catch { return true }
  if (process.env.DAG_NO_REBUILD) return false
  if (stamp.packageRoot !== PACKAGE_ROOT || (stamp.projectRoot ?? undefined) !== (project ? path.resolve(project) : undefined)) return true
  const built = fs.statSync(stampFile).mtimeMs
  const now = project ? pipelineFiles(project).map((p) => p.file) : []
  if (JSON.stringify(now) !== JSON.stringify(stamp.pipelines ?? [])) return true
  for (const f of stamp.sources ?? []) {
    let st
    try { st = fs.statSync(f) } catch { return true }
    if (st.mtimeMs > built) return true
  }
  return false
}

function ensureBuilt() {
  if (!stale()) return
  if (!canResolve("esbuild")) {
    if (fs.existsSync(bundle)) return
    console.error("mathdag: the CLI is not built and esbuild is not installed; run `npm ci` (or `npm run build`) in " + PACKAGE_ROOT)
    process.exit(2)
  }
  const { spawnSync } = require("node:child_process")
  const args = [path.join(PACKAGE_ROOT, "scripts", "build.mjs"), ...(project ? ["--project", project] : ["--bare"]), "--out", dist]
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DAG_QUIET_BUILD: "1" } })
  if (r.status !== 0) { console.error(`mathdag: building the CLI for ${project ?? "(no project)"} failed (see above); fix the TypeScript error and retry`); process.exit(2) }
}

function canResolve(id) {
  try { require.resolve(id, { paths: [PACKAGE_ROOT] }); return true } catch { return false }
}

ensureBuilt()

require("./run-bundle.cjs")(bundle)
