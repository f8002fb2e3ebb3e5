// Runs an esbuild bundle from dist/ through V8's code cache (one cache file per bundle and Node
// version), so the CLI and every worker thread skip most compilation at start-up.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

// A project's bundle lives in the project; the packages it leaves out (DuckDB, TF.js, …) are this
// package's dependencies, found in its node_modules when the project's own does not have them.
const packageModules = path.join(__dirname, "..", "node_modules")
if (!(process.env.NODE_PATH || "").split(path.delimiter).includes(packageModules)) {
  process.env.NODE_PATH = [process.env.NODE_PATH, packageModules].filter(Boolean).join(path.delimiter)
  Module._initPaths()
}

module.exports = function runBundle(bundle) {
  const cacheFile = `${bundle}.${process.version}.v8cache`
  const source = fs.readFileSync(bundle, "utf8")
  let cached
  try { cached = fs.readFileSync(cacheFile) } catch {}
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached })
  if (!cached || script.cachedDataRejected) {
    // Written at exit so the cache also holds the functions this process compiled lazily.
    const save = () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.${require("node:worker_threads").threadId}.tmp`
        fs.writeFileSync(tmp, script.createCachedData())
        fs.renameSync(tmp, cacheFile)
      } catch {}
    }
    process.once("exit", save)
    module.exports.saveCache = save
  }
  const dir = path.dirname(bundle)
  const mod = { exports: {}, filename: bundle, id: bundle, paths: Module._nodeModulePaths(dir) }
  script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, dir)
}
