#!/usr/bin/env node
// Starts the `dag` CLI from dist/dag.cjs. Rebuilds first when a source file is newer than the
// bundle, and runs the bundle through V8's code cache (run-bundle.cjs) so start-up skips most compilation.
"use strict"
const fs = require("node:fs")
const path = require("node:path")

const root = path.resolve(__dirname, "..")
const dist = path.join(root, "dist")
const bundle = path.join(dist, "dag.cjs")
const stampFile = path.join(dist, "build.json")

function newestSource() {
  let newest = 0
  const visit = (p) => {
    let st
    try { st = fs.statSync(p) } catch { return }
    if (st.isDirectory()) { for (const e of fs.readdirSync(p)) visit(path.join(p, e)) }
    else if (p.endsWith(".ts") && st.mtimeMs > newest) newest = st.mtimeMs
  }
  for (const d of ["engine", "nodes", "schemas", "pipelines", "dag.config.ts"]) visit(path.join(root, d))
  return newest
}

function ensureBuilt() {
  let built = 0
  try { built = fs.statSync(stampFile).mtimeMs } catch {}
  if (built > 0 && (process.env.DAG_NO_REBUILD || newestSource() <= built)) return
  if (!fs.existsSync(path.join(root, "node_modules", "esbuild"))) {
    if (built > 0) return
    console.error("mathdag: dist/ is missing and esbuild is not installed; run `npm ci` (or `npm run build`) in " + root)
    process.exit(2)
  }
  const { spawnSync } = require("node:child_process")
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DAG_QUIET_BUILD: "1" } })
  if (r.status !== 0) { console.error("mathdag: rebuilding dist/ failed (see above); fix the TypeScript error and retry"); process.exit(2) }
}

ensureBuilt()

require("./run-bundle.cjs")(bundle)
