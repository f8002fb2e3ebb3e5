/**
 * Uploading a folder of files to a Hub repository, resumably and idempotently, through
 * `@huggingface/hub`'s commit API (preupload, then LFS batch for large files, then one NDJSON
 * commit). Before anything is sent, the repository's tree at the revision is listed and each
 * local file's identity is computed both ways the Hub records it (the git blob SHA-1 of a
 * regular file, the SHA-256 of an LFS file): a file the revision already has is not sent, so a
 * second publish of the same run makes no commit at all. Files go in commits of bounded size,
 * the card and `mathdag.json` in the last one, so an interrupted publish leaves whole commits
 * behind and a re-run sends only the rest (large files already stored by the LFS batch call are
 * not uploaded again either).
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { credentials, hub, HubError, hubUrl, withRetries } from "../hub.js"

export interface HubTarget {
  readonly type: "dataset" | "model"
  readonly repo: string
  readonly revision: string
}

/** `hf://datasets/OWNER/NAME[@BRANCH]` (a dataset) or `hf://OWNER/NAME[@BRANCH]` (a model). */
export const parseTarget = (to: string): HubTarget | undefined => {
  // a branch is one path segment: the Hub reads `@feat/x` as branch feat, path x
  const m = /^hf:\/\/(datasets\/|models\/)?([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w.-]+))?\/?$/.exec(to)
  if (!m || m[2]!.includes("..")) return undefined
  return { type: m[1] === "datasets/" ? "dataset" : "model", repo: m[2]!, revision: m[3] ?? "main" }
}

export const targetUrl = (t: HubTarget): string => `hf://${t.type === "dataset" ? "datasets/" : ""}${t.repo}${t.revision === "main" ? "" : `@${t.revision}`}`

export interface LocalFile {
  readonly path: string
  readonly local: string
  readonly bytes: number
}

/** The two identities the Hub may hold for a file: git blob SHA-1 and content SHA-256 (streamed). */
export const fileIdentity = async (file: string): Promise<{ gitSha1: string; sha256: string; bytes: number }> => {
  const size = fs.statSync(file).size
  const git = createHash("sha1").update(`blob ${size}\0`)
  const sha = createHash("sha256")
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    git.update(chunk as Buffer)
    sha.update(chunk as Buffer)
  }
  return { gitSha1: git.digest("hex"), sha256: sha.digest("hex"), bytes: size }
}

export interface UploadOptions {
  readonly message: string
  readonly private: boolean
  /** bytes per commit (several commits when the files are larger) */
  readonly commitBytes: number
  /** files sent last, in the final commit (the card, which must not describe files not yet there) */
  readonly last: ReadonlyArray<string>
  readonly log: (line: string) => void
}

export interface UploadResult {
  readonly sent: ReadonlyArray<string>
  readonly unchanged: ReadonlyArray<string>
  readonly commits: ReadonlyArray<string>
}

const WRITE = "write access to this repository (huggingface.co/settings/tokens)"

/** Groups files into commits of at most `limit` bytes (and 100 files), keeping `last` for the final one. */
export const planCommits = <F extends LocalFile>(files: ReadonlyArray<F>, limit: number, last: ReadonlyArray<string>): Array<Array<F>> => {
  const tail = files.filter((f) => last.includes(f.path))
  const batches: Array<Array<F>> = []
  let current: Array<F> = []
  let size = 0
  for (const f of files.filter((f) => !last.includes(f.path))) {
    if (current.length > 0 && (size + f.bytes > limit || current.length >= 100)) {
      batches.push(current)
      current = []
      size = 0
    }
    current.push(f)
    size += f.bytes
  }
  if (current.length > 0) batches.push(current)
  if (tail.length > 0) {
    if (batches.length > 0 && batches.at(-1)!.reduce((a, f) => a + f.bytes, 0) + tail.reduce((a, f) => a + f.bytes, 0) <= limit) batches.at(-1)!.push(...tail)
    else batches.push(tail)
  }
  return batches
}

export const uploadFiles = async (target: HubTarget, files: ReadonlyArray<LocalFile>, o: UploadOptions): Promise<UploadResult> => {
  const lib = await hub()
  const repo = { type: target.type, name: target.repo } as const
  const where = targetUrl(target)
  const common = { hubUrl: hubUrl(), ...credentials() }
  if (!process.env.HF_TOKEN) throw new HubError(`${where}: publishing needs a token: set HF_TOKEN to a token with ${WRITE}`, false)

  // what the revision already holds; a repository (or branch) that does not exist yet is created
  // (asked only then: a token may write to a repository without the right to create one, and a
  // repository is made private only when --private says so, never public by our choice)
  const remote = new Map<string, { oid: string; lfs?: string; size: number }>()
  const list = async () => {
    remote.clear()
    for await (const f of lib.listFiles({ repo, revision: target.revision, recursive: true, ...common })) {
      if (f.type === "file") remote.set(f.path, { oid: f.oid ?? "", size: f.size, ...(f.lfs?.oid ? { lfs: f.lfs.oid } : {}) })
    }
  }
  const missing = (e: unknown) => (e as { statusCode?: number }).statusCode === 404
  await withRetries(
    where,
    async () => {
      try {
        await list()
      } catch (e) {
        if (!missing(e)) throw e
        try {
          await lib.createRepo({ repo, ...(o.private ? { private: true } : {}), ...common, accessToken: process.env.HF_TOKEN! })
          o.log(`created ${where}${o.private ? " (private)" : ""}`)
        } catch (created) {
          if ((created as { statusCode?: number }).statusCode !== 409) throw created
        }
        if (target.revision !== "main") {
          try {
            await lib.createBranch({ repo, branch: target.revision, ...common, accessToken: process.env.HF_TOKEN! })
          } catch (made) {
            if ((made as { statusCode?: number }).statusCode !== 409) throw made
          }
        }
        await list()
      }
    },
    4,
    WRITE
  )

  const toSend: Array<LocalFile> = []
  const unchanged: Array<string> = []
  for (const f of files) {
    const there = remote.get(f.path)
    if (there && there.size === f.bytes) {
      const id = await fileIdentity(f.local)
      if (there.lfs === id.sha256 || there.oid === id.gitSha1) {
        unchanged.push(f.path)
        continue
      }
    }
    toSend.push(f)
  }
  if (toSend.length === 0) {
    o.log(`${where} already has all ${files.length} file(s) at ${target.revision}: nothing to send, no commit made`)
    return { sent: [], unchanged, commits: [] }
  }
  if (unchanged.length > 0) o.log(`${unchanged.length} of ${files.length} file(s) already there (same content); sending ${toSend.length}`)

  const batches = planCommits(toSend, o.commitBytes, o.last)
  const commits: Array<string> = []
  const sent: Array<string> = []
  for (const [i, batch] of batches.entries()) {
    const size = batch.reduce((a, f) => a + f.bytes, 0)
    const title = batches.length > 1 ? `${o.message} (${i + 1}/${batches.length})` : o.message
    o.log(`commit ${i + 1}/${batches.length}: ${batch.length} file(s), ${(size / 1e6).toFixed(1)} MB`)
    const out = await withRetries(
      where,
      async () => {
        const operations = await Promise.all(batch.map(async (f) => ({ operation: "addOrUpdate" as const, path: f.path, content: await fs.openAsBlob(f.local) })))
        // useXet false: plain LFS (basic or multipart) transfers, which every Hub endpoint speaks
        return lib.commit({ repo, branch: target.revision, title, operations, useXet: false, ...common, accessToken: process.env.HF_TOKEN! })
      },
      5,
      WRITE
    )
    const oid = out?.commit.oid ?? "(no commit id)"
    commits.push(oid)
    sent.push(...batch.map((f) => f.path))
    o.log(`  committed ${oid.slice(0, 12)}`)
  }
  return { sent, unchanged, commits }
}
