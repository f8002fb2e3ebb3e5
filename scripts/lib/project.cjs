// A mathdag project: a folder with dag.config.ts and a pipelines/ folder, found by walking up from
// the current directory. The engine reaches the project's code through one module, "mathdag:project",
// generated here: its config and a loader per file in pipelines/ (no registry file to keep in sync).
// Used by the bundler (scripts/build.mjs), the test runner's config and bin/dag.cjs.
// CommonJS, so that bin/dag.cjs can require it synchronously and ES modules can import it.
"use strict"
const fs = require("node:fs")
const path = require("node:path")

const PACKAGE_ROOT = path.resolve(__dirname, "..", "..")
const CONFIG_FILES = ["dag.config.ts", "dag.config.mts", "dag.config.js", "dag.config.mjs"]
const PROJECT_MODULE = "mathdag:project"

/** The nearest folder at or above `from` with a dag.config file, or undefined. */
const findProjectRoot = (from) => {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (CONFIG_FILES.some((f) => fs.existsSync(path.join(dir, f)))) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

/** Pipeline files of a project: pipelines/<name>.ts (the file name is the pipeline's name). */
const pipelineFiles = (root) => {
  const dir = path.join(root, "pipelines")
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(m?ts|m?js)$/.test(f) && !f.endsWith(".d.ts") && !f.startsWith("_") && !/^index\./.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.(m?ts|m?js)$/, ""), file: path.join(dir, f) }))
}

/**
 * The source of "mathdag:project" for the project at `root` (undefined: no project, as for
 * `dag init` or `dag --help` outside one).
 */
const projectModuleSource = (root) => {
  if (!root) return 'export const root = undefined\nexport const config = undefined\nexport const pipelines = {}\n'
  const config = CONFIG_FILES.map((f) => path.join(root, f)).find((f) => fs.existsSync(f))
  const entries = pipelineFiles(root).map(({ name, file }) => `  ${JSON.stringify(name)}: () => import(${JSON.stringify(file)}).then((m) => m.default),`)
  return [
    `export const root = ${JSON.stringify(root)}`,
    `export { default as config } from ${JSON.stringify(config)}`,
    "export const pipelines = {",
    ...entries,
    "}",
    "",
  ].join("\n")
}

/**
 * Where "mathdag" and its subpaths resolve: the package's own sources, so a project's code and the
 * engine share one copy of every module.
 */
const resolvePublic = (specifier) => {
  if (specifier === "mathdag") return path.join(PACKAGE_ROOT, "engine", "index.ts")
  const m = /^mathdag\/(.+)$/.exec(specifier)
  if (!m) return undefined
  const base = path.join(PACKAGE_ROOT, m[1])
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base.replace(/\.js$/, ".ts")]) if (fs.existsSync(candidate)) return candidate
  return undefined
}

/** Where a project's bundles go: dist/ for this package itself, else the project's .mathdag/build. */
const buildDirFor = (root) => (!root ? path.join(PACKAGE_ROOT, "dist", "bare") : path.resolve(root) === PACKAGE_ROOT ? path.join(PACKAGE_ROOT, "dist") : path.join(root, ".mathdag", "build"))

module.exports = { PACKAGE_ROOT, CONFIG_FILES, PROJECT_MODULE, findProjectRoot, pipelineFiles, projectModuleSource, resolvePublic, buildDirFor }
