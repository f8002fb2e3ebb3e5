/**
 * Files from a Hugging Face Hub dataset repository, through `@huggingface/hub`: listed with the tree
 * API, downloaded once into a local cache (`DAG_HUB_CACHE`, default `<store>/hub`) and reused. The
 * endpoint is `hubUrl` in dag.config.ts (or DAG_HUB_URL); the token is HF_TOKEN and is only ever sent
 * to the Hub, never logged or stored. Transient failures (HTTP 429/5xx, network) are retried.
 *
 * Entries look like `hf://datasets/OWNER/NAME@REVISION/GLOB`; the revision (default `main`) and each
 * file's content id enter the cache key, so a new revision recomputes exactly the changed files.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { credentials, hub, HubError, hubUrl, withRetries } from "../../engine/hub.js"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"

export { HubError, hubUrl }

const hubCache = (): string => process.env.DAG_HUB_CACHE ?? path.join(process.env.DAG_STORE ?? ".dag", "hub")

export interface HubRef {
  readonly repo: string
  readonly revision: string
  readonly pattern: string
}

export const parseHubRef = (entry: string): HubRef | undefined => {
  const m = /^hf:\/\/datasets\/([^/@]+\/[^/@]+)(?:@([^/]+))?\/(.+)$/.exec(entry)
  if (!m || !isSafeRelative(m[1]!) || !isSafeRelative(m[2] ?? "main") || !isSafeRelative(m[3]!)) return undefined
  return { repo: m[1]!, revision: m[2] ?? "main", pattern: m[3]! }
}

/** A relative path with no `..`, `.` or empty segment, no backslash or NUL: it cannot leave the folder it is joined to. */
export const isSafeRelative = (p: string): boolean => p.length > 0 && !p.startsWith("/") && !/[\\\u0000]/.test(p) && p.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..")

/** `*` matches within a path segment, `**` across segments, `?` one character. */
export const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    "^" +
      glob
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => (part === "**/" || part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("") +
      "$"
  )

export interface HubFile {
  readonly path: string
  readonly size: number
  /** git or LFS object id: the file's content identity at this revision */
  readonly oid: string
}

export const listHubFiles = async (ref: HubRef): Promise<Array<HubFile>> => {
  const { listFiles } = await hub()
  const re = globToRegExp(ref.pattern)
  return withRetries(`hf://datasets/${ref.repo}@${ref.revision}`, async () => {
    const out: Array<HubFile> = []
    for await (const f of listFiles({ repo: { type: "dataset", name: ref.repo }, revision: ref.revision, recursive: true, hubUrl: hubUrl(), ...credentials() })) {
      if (f.type === "file" && re.test(f.path)) out.push({ path: f.path, size: f.size, oid: f.lfs?.oid ?? f.oid ?? `${f.size}` })
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1))
  })
}

/** The local copy of a Hub file, downloading it (atomically) unless the cache holds this content. */
export const hubFileLocal = async (ref: HubRef, file: HubFile): Promise<string> => {
  // What a Hub server lists decides where the file is written: refuse anything that could leave the cache.
  const root = path.resolve(hubCache())
  const dest = path.resolve(root, "datasets", ref.repo, file.oid, file.path)
  if (!isSafeRelative(ref.repo) || !(isSafeRelative(file.oid) && !file.oid.includes("/")) || !isSafeRelative(file.path) || !dest.startsWith(root + path.sep)) {
    throw new HubError(`hf://datasets/${ref.repo}: the server listed an unsafe file path or object id (${JSON.stringify(file.path)}, ${JSON.stringify(file.oid)}); nothing was written`, false)
  }
  const st = fs.statSync(dest, { throwIfNoEntry: false })
  if (st && st.size === file.size) return dest
  const { downloadFile } = await hub()
  return withRetries(`hf://datasets/${ref.repo}@${ref.revision}/${file.path}`, async () => {
    const blob = await downloadFile({ repo: { type: "dataset", name: ref.repo }, path: file.path, revision: ref.revision, hubUrl: hubUrl(), ...credentials() })
    if (!blob) throw new HubError(`hf://datasets/${ref.repo}@${ref.revision}/${file.path}: not found`, false)
    fs.mkdirSync(path.dirname(dest), { recursive: true })
    const tmp = `${dest}.${process.pid}.part`
    try {
      await pipeline(Readable.fromWeb(blob.stream() as import("node:stream/web").ReadableStream<Uint8Array>), fs.createWriteStream(tmp))
      if (fs.statSync(tmp).size !== file.size) throw new HubError(`${file.path}: downloaded ${fs.statSync(tmp).size} bytes, expected ${file.size}`, true)
      fs.renameSync(tmp, dest)
    } finally {
      fs.rmSync(tmp, { force: true })
    }
    return dest
  })
}
