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
import type { LineRange } from "./jsonl.js"
import { hubFileLocal, listHubFiles, parseHubRef, type HubError, type HubFile, type HubRef } from "./hub/files.js"

/**
 * Lists files matching comma-separated entries: local globs (relative to the project root) or Hub
 * entries `hf://datasets/OWNER/NAME@REVISION/GLOB` (see nodes/hub/files.ts).
 */
export const listFiles = (
  node: string,
  patterns: string,
  /** cuts a local file's unit into bounded units at record boundaries (nodes/units/) */
  cut?: (unit: SourceUnit) => ReadonlyArray<SourceUnit> | Promise<ReadonlyArray<SourceUnit>>
): Effect.Effect<ReadonlyArray<SourceUnit>, NodeRunError> => {
  const entries = patterns
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
  const hubEntries = entries.filter((e) => e.startsWith("hf://"))
  const local = entries.filter((e) => !e.startsWith("hf://"))
  const localUnits = local.length ? listLocal(node, local.join(",")) : Effect.succeed([])
  const bounded = cut
    ? Effect.flatMap(localUnits, (units) => {
        const failed = (e: unknown) => new NodeRunError({ node, message: `node ${node}: cutting inputs into shards: ${(e as Error).message}`, transient: false })
        // stays synchronous when every cut is (cached layouts), so a no-op run plans without waiting
        return Effect.try({ try: () => units.map(cut), catch: failed }).pipe(
          Effect.flatMap((parts) =>
            parts.some((p) => p instanceof Promise) ? Effect.tryPromise({ try: () => Promise.all(parts), catch: failed }) : Effect.succeed(parts as ReadonlyArray<ReadonlyArray<SourceUnit>>)
          ),
          Effect.map((parts) => parts.flat())
        )
      })
    : localUnits
  return Effect.all([bounded, listHub(node, hubEntries)]).pipe(
    Effect.map(([a, b]) => [...a, ...b]),
    Effect.filterOrFail(
      (units) => units.length > 0,
      () => new NodeRunError({ node, message: `node ${node}: no files match "${patterns}"; set --param ${node}.paths=GLOB`, transient: false, badInput: true })
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

/** The id of the file a unit reads (a cut unit's id also names its byte range). */
export const fileIdOf = (unit: SourceUnit): string => (typeof unit.fileId === "string" ? unit.fileId : unit.id)

/** The byte range and first line of a cut JSON Lines unit; undefined for a whole file. */
export const lineRangeOf = (unit: SourceUnit): LineRange | undefined =>
  typeof unit.start === "number" && typeof unit.end === "number" && typeof unit.firstLine === "number" ? { start: unit.start, end: unit.end, firstLine: unit.firstLine } : undefined

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
      for (const raw of patterns
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)) {
        const abs = path.isAbsolute(raw) ? raw : path.join(root, raw)
        if (!/[*?[{]/.test(abs)) {
          if (!fs.existsSync(abs)) throw new Error(`${raw} does not exist`)
          files.add(abs)
          continue
        }
        for (const f of globSync(abs.replaceAll("\\", "/"), { absolute: true, onlyFiles: true })) files.add(f)
      }
      if (files.size === 0) throw new Error(`no files match "${patterns}"`)
      for (const f of files) {
        const kind = notRegular(f)
        if (kind) throw new InputKindError(`${f} is ${kind}, not a regular file: inputs must be files of known size (copy a stream to a file first)`)
      }
      return [...files].sort().map((file) => {
        const rel = path.relative(root, file)
        const id = rel.startsWith("..") ? file : rel
        return { id, fingerprint: fingerprintFile(file), file }
      })
    },
    catch: (e) =>
      new NodeRunError({
        node,
        message: e instanceof InputKindError ? `node ${node}: ${e.message}` : `node ${node}: ${(e as Error).message}; set --param ${node}.paths=GLOB`,
        transient: false,
        badInput: true,
      }),
  })

class InputKindError extends Error {}

/** What a path is when it is not a regular file (read endlessly or not at all, so refused up front). */
const notRegular = (file: string): string | undefined => {
  const st = fs.statSync(file)
  return st.isFile()
    ? undefined
    : st.isDirectory()
      ? "a directory"
      : st.isFIFO()
        ? "a FIFO (named pipe)"
        : st.isCharacterDevice()
          ? "a character device"
          : st.isBlockDevice()
            ? "a block device"
            : st.isSocket()
              ? "a socket"
              : "not a regular file"
}
