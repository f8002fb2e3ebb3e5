/**
 * Local file listing shared by source nodes: globs resolved against the project root, each file
 * fingerprinted by content (so touching a file without changing it recomputes nothing), with the
 * fingerprints cached by size and mtime in the store.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { globSync } from "tinyglobby"
import { NodeRunError } from "../engine/errors.js"
import { fingerprintFile } from "../engine/fingerprints.js"
import type { SourceUnit } from "../engine/node.js"
import { projectRoot } from "../engine/paths.js"

/** Lists files matching comma-separated globs; relative patterns are relative to the project root. */
export const listFiles = (node: string, patterns: string): Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError> =>
  Effect.try({
    try: () => {
      const root = projectRoot()
      const files = new Set<string>()
      for (const raw of patterns.split(",").map((s) => s.trim()).filter(Boolean)) {
        const abs = path.isAbsolute(raw) ? raw : path.join(root, raw)
        if (!/[*?[{]/.test(abs)) {
          if (!fs.existsSync(abs)) throw new Error(`${raw} does not exist`)
          files.add(abs)
          continue
        }
        for (const f of globSync(abs.replaceAll("\\", "/"), { absolute: true, onlyFiles: true })) files.add(f)
      }
      if (files.size === 0) throw new Error(`no files match "${patterns}"`)
      return [...files].sort().map((file) => {
        const rel = path.relative(root, file)
        const id = rel.startsWith("..") ? file : rel
        return { id, fingerprint: fingerprintFile(file), file }
      })
    },
    catch: (e) => new NodeRunError({ node, message: `node ${node}: ${(e as Error).message}; set --param ${node}.paths=GLOB`, transient: false }),
  })
