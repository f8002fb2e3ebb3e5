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
import { hubFileLocal, listHubFiles, parseHubRef, type HubError, type HubFile, type HubRef } from "./hub/files.js"

/**
 * Lists files matching comma-separated entries: local globs (relative to the project root) or Hub
 * entries `hf://datasets/OWNER/NAME@REVISION/GLOB` (see nodes/hub/files.ts).
 */
export const listFiles = (node: string, patterns: string): Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError> => {
  const entries = patterns.split(",").map((s) => s.trim()).filter(Boolean)
  const hubEntries = entries.filter((e) => e.startsWith("hf://"))
  const local = entries.filter((e) => !e.startsWith("hf://"))
  return Effect.all([local.length ? listLocal(node, local.join(",")) : Effect.succeed([]), listHub(node, hubEntries)]).pipe(
    Effect.map(([a, b]) => [...a, ...b]),
    Effect.filterOrFail(
      (units) => units.length > 0,
      () => new NodeRunError({ node, message: `node ${node}: no files match "${patterns}"; set --param ${node}.paths=GLOB`, transient: false })
    )
  )
}

const listHub = (node: string, entries: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError> =>
  Effect.tryPromise({
    try: async () => {
      const units: Array<SourceUnit> = []
      for (const entry of entries) {
        const ref = parseHubRef(entry)
        if (!ref) throw new Error(`"${entry}" is not hf://datasets/OWNER/NAME[@REVISION]/GLOB`)
        for (const f of await listHubFiles(ref)) units.push({ id: `hf://datasets/${ref.repo}@${ref.revision}/${f.path}`, fingerprint: `${ref.revision}:${f.oid}`, hub: { ref, file: f } })
      }
      return units
    },
    catch: (e) => new NodeRunError({ node, message: `node ${node}: ${(e as Error).message}`, transient: (e as HubError).transient === true }),
  })

/** The local path of a unit's file: itself, or the Hub file downloaded into the cache. */
export const localFile = async (unit: SourceUnit): Promise<string> => {
  const hubUnit = unit.hub as { ref: HubRef; file: HubFile } | undefined
  return hubUnit ? hubFileLocal(hubUnit.ref, hubUnit.file) : (unit.file as string)
}

const listLocal = (node: string, patterns: string): Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError> =>
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
