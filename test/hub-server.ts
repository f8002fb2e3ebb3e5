/**
 * A Hugging Face Hub on 127.0.0.1 for tests: the routes `@huggingface/hub` calls to read and to
 * write, answered as the Hub answers them. Repositories live in memory with their commits;
 * regular files are stored in the commit, large ones through the LFS batch API (basic transfer)
 * and referenced by SHA-256. Tree listings give git blob SHA-1 oids and, for LFS files, the
 * pointer's oid plus `lfs.oid`. Writes need `Authorization: Bearer <token>`; failures can be
 * injected per route to test retries and interrupted publishes.
 */
import { createHash } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

interface StoredFile {
  readonly content?: Buffer
  /** `oid` is the SHA-256 the Hub lists; `stored` is where this server keeps the bytes */
  readonly lfs?: { readonly oid: string; readonly size: number; readonly stored: string }
}

interface Repo {
  readonly private: boolean
  readonly branches: Map<string, { commit: string; files: Map<string, StoredFile> }>
  readonly commits: Array<{ oid: string; title: string; branch: string; paths: ReadonlyArray<string> }>
}

const gitSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex")
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex")
const pointer = (oid: string, size: number) => Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`)

export interface LocalHub {
  readonly url: string
  readonly repos: Map<string, Repo>
  readonly lfs: Map<string, Buffer>
  readonly requests: Array<{ method: string; path: string }>
  /** after `skip` requests whose path matches, the next `times` ones answer `status` */
  failNext(match: RegExp, status: number, times: number, skip?: number): void
  /** the files of a repository at a branch, with their bytes */
  files(type: string, repo: string, branch?: string): Map<string, Buffer>
  close(): Promise<void>
}

const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

export const startLocalHub = async (token: string): Promise<LocalHub> => {
  const repos = new Map<string, Repo>()
  const lfs = new Map<string, Buffer>()
  const requests: Array<{ method: string; path: string }> = []
  const failures: Array<{ match: RegExp; status: number; times: number; skip: number }> = []
  let commitCounter = 0
  let base = ""

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))
  const authorised = (req: http.IncomingMessage) => req.headers.authorization === `Bearer ${token}`
  const bytesOf = (f: StoredFile): Buffer => f.content ?? lfs.get(f.lfs!.stored)!

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const p = decodeURIComponent(url.pathname)
    requests.push({ method: req.method ?? "", path: p })
    const failure = failures.find((f) => f.times > 0 && f.match.test(p) && (f.skip > 0 ? (f.skip--, false) : true))
    if (failure) {
      failure.times--
      await readBody(req)
      return json(res, failure.status, { error: "injected failure" })
    }
    const body = await readBody(req)

    if (req.method === "POST" && p === "/api/repos/create") {
      if (!authorised(req)) return json(res, 401, { error: "Invalid credentials in Authorization header" })
      const b = JSON.parse(body.toString()) as { name: string; organization: string; type?: string; private?: boolean; visibility?: string }
      const key = `${b.type ?? "model"}:${b.organization}/${b.name}`
      if (repos.has(key)) return json(res, 409, { error: "You already created this dataset repo" })
      repos.set(key, { private: b.private === true || b.visibility === "private", branches: new Map([["main", { commit: "0".repeat(40), files: new Map() }]]), commits: [] })
      return json(res, 200, { url: `${base}/${b.type === "dataset" ? "datasets/" : ""}${b.organization}/${b.name}`, id: key })
    }

    const api = /^\/api\/(datasets|models)\/([^/]+\/[^/]+)\/(tree|preupload|commit|branch)\/([^/]+)(?:\/(.*))?$/.exec(p)
    if (api) {
      const type = api[1] === "datasets" ? "dataset" : "model"
      const repo = repos.get(`${type}:${api[2]}`)
      const branch = api[4]!
      if (!repo) return json(res, 404, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" })
      const write = api[3] !== "tree"
      if ((write || repo.private) && !authorised(req)) return json(res, 401, { error: "Invalid credentials in Authorization header" })
      if (api[3] === "branch") {
        if (repo.branches.has(branch)) return json(res, 409, { error: "Reference already exists" })
        const main = repo.branches.get("main")!
        repo.branches.set(branch, { commit: main.commit, files: new Map(main.files) })
        return json(res, 200, {})
      }
      const state = repo.branches.get(branch)
      if (!state) return json(res, 404, { error: `Invalid rev id: ${branch}` }, { "X-Error-Code": "RevisionNotFound" })
      if (api[3] === "tree") {
        const prefix = api[5] ? `${api[5]}/` : ""
        const entries = [...state.files.entries()]
          .filter(([path]) => path.startsWith(prefix))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([path, f]) =>
            f.lfs
              ? { type: "file", path, size: f.lfs.size, oid: gitSha1(pointer(f.lfs.oid, f.lfs.size)), lfs: { oid: f.lfs.oid, size: f.lfs.size, pointerSize: pointer(f.lfs.oid, f.lfs.size).length } }
              : { type: "file", path, size: f.content!.length, oid: gitSha1(f.content!) }
          )
        return json(res, 200, entries)
      }
      if (api[3] === "preupload") {
        const b = JSON.parse(body.toString()) as { files: Array<{ path: string; size: number }> }
        // as the Hub does by default: binary formats and large files go through LFS
        return json(res, 200, { files: b.files.map((f) => ({ path: f.path, uploadMode: /\.(parquet|safetensors|bin)$/.test(f.path) || f.size > 10_000_000 ? "lfs" : "regular" })) })
      }
      // commit: NDJSON header, then one line per operation
      const lines = body
        .toString()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> })
      const header = lines.find((l) => l.key === "header")
      const next = new Map(state.files)
      const paths: Array<string> = []
      for (const { key, value } of lines) {
        if (key === "file") (next.set(String(value.path), { content: Buffer.from(String(value.content), "base64") }), paths.push(String(value.path)))
        else if (key === "lfsFile") {
          const oid = String(value.oid)
          if (!lfs.has(`${type}:${api[2]}:${oid}`)) return json(res, 422, { error: `LFS object ${oid} was never uploaded` })
          next.set(String(value.path), { lfs: { oid, size: Number(value.size), stored: `${type}:${api[2]}:${oid}` } })
          paths.push(String(value.path))
        } else if (key === "deletedFile") next.delete(String(value.path))
      }
      const oid = createHash("sha1").update(`commit ${++commitCounter}`).digest("hex")
      repo.branches.set(branch, { commit: oid, files: next })
      repo.commits.push({ oid, title: String(header?.value.summary ?? ""), branch, paths })
      return json(res, 200, { commitOid: oid, commitUrl: `${base}/commit/${oid}` })
    }

    const batch = /^\/(datasets\/)?([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(p)
    if (batch && req.method === "POST") {
      if (!authorised(req)) return json(res, 401, { message: "unauthorised" })
      const b = JSON.parse(body.toString()) as { objects: Array<{ oid: string; size: number }> }
      // LFS storage is per repository, as on the Hub
      const repoKey = `${batch[1] ? "dataset" : "model"}:${batch[2]}`
      return res.writeHead(200, { "content-type": "application/vnd.git-lfs+json" }).end(
        JSON.stringify({
          transfer: "basic",
          objects: b.objects.map((o) =>
            lfs.has(`${repoKey}:${o.oid}`) ? { oid: o.oid, size: o.size } : { oid: o.oid, size: o.size, actions: { upload: { href: `${base}/lfs-upload/${encodeURIComponent(repoKey)}/${o.oid}` } } }
          ),
        })
      )
    }
    const upload = /^\/lfs-upload\/([^/]+:[^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(p)
    if (upload && req.method === "PUT") {
      if (sha256(body) !== upload[2]) return json(res, 400, { error: "content does not match its oid" })
      lfs.set(`${upload[1]}:${upload[2]}`, body)
      return res.writeHead(200).end()
    }

    const resolve = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p)
    if (resolve) {
      const repo = repos.get(`${resolve[1] ? "dataset" : "model"}:${resolve[2]}`)
      const f = repo?.branches.get(resolve[3]!)?.files.get(resolve[4]!)
      if (!repo || !f) return res.writeHead(404, { "X-Error-Code": "EntryNotFound" }).end()
      if (repo.private && !authorised(req)) return json(res, 401, { error: "unauthorised" })
      const bytes = bytesOf(f)
      const etag = `"${f.lfs?.oid ?? gitSha1(bytes)}"`
      const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "")
      if (range) {
        const start = Number(range[1])
        const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1
        res.writeHead(206, { "Content-Range": `bytes ${start}-${end}/${bytes.length}`, "Content-Length": end - start + 1, ETag: etag, "Accept-Ranges": "bytes" })
        return res.end(bytes.subarray(start, end + 1))
      }
      return res.writeHead(200, { "Content-Length": bytes.length, ETag: etag }).end(bytes)
    }
    json(res, 404, { error: `no route ${req.method} ${p}` })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: base,
    repos,
    lfs,
    requests,
    failNext: (match, status, times, skip = 0) => void failures.push({ match, status, times, skip }),
    files: (type, repo, branch = "main") => new Map([...(repos.get(`${type}:${repo}`)?.branches.get(branch)?.files ?? new Map<string, StoredFile>()).entries()].map(([p, f]) => [p, bytesOf(f)])),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
