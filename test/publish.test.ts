/**
 * `dag publish` of the sample run: the staged layout and card (--dry-run --out), then real
 * publishes to a local Hub on 127.0.0.1 speaking the routes @huggingface/hub uses (preupload, LFS
 * batch + basic upload, NDJSON commit, tree, resolve): round trip through the Hub input code,
 * a second publish that sends nothing, an interrupted publish that resumes, and a wrong token.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import YAML from "yaml"
import { hubFileLocal, listHubFiles } from "../nodes/hub/files.js"
import { dagAwait, sandbox, tempDir, type Sandbox } from "./helpers.js"
import { startLocalHub, type LocalHub } from "./hub-server.js"

const TOKEN = "hf_publish_secret_token_7f3a9"
const rowsOf = async (files: ReadonlyArray<string>): Promise<number> => {
  const db = await DuckDBInstance.create(":memory:")
  const c = await db.connect()
  try {
    const r = await c.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet([${files.map((f) => `'${f}'`).join(", ")}])`)
    return Number(r.getRowObjects()[0]!.n)
  } finally {
    c.closeSync()
  }
}
const sqlJson = async (box: Sandbox, q: string) => JSON.parse((await dagAwait(box, ["sql", q, "--format", "json"])).stdout) as Array<Record<string, unknown>>

/** Every file under a folder, for "the token appears nowhere" checks. */
const allFiles = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    : []

describe("dag publish", () => {
  let box: Sandbox
  let hub: LocalHub
  let expected: Record<string, number> = {}
  beforeAll(async () => {
    hub = await startLocalHub(TOKEN)
    box = sandbox("publish")
    box = { ...box, env: { ...box.env, DAG_HUB_URL: hub.url, HF_TOKEN: TOKEN } }
    const run = await dagAwait(box, ["run", "proof-pile-2"])
    expect(run.code, run.stderr).toBe(0)
    // rows each published split should hold, from the run's own datasets
    const arxiv = await sqlJson(box, "SELECT split, count(*)::INTEGER AS n FROM overlap_decontaminate_arxiv__kept GROUP BY 1")
    for (const r of arxiv) expected[`arxiv/${r.split}`] = Number(r.n)
    const owm = await sqlJson(
      box,
      "SELECT coalesce(t.split, 'train') AS split, count(*)::INTEGER AS n FROM overlap_decontaminate__kept d LEFT JOIN (SELECT DISTINCT id, split FROM tokens_tokenize_owm) t USING (id) GROUP BY 1"
    )
    for (const r of owm) expected[`open-web-math/${r.split}`] = Number(r.n)
    for (const split of ["train", "validation", "test"]) {
      const [a] = await sqlJson(box, `SELECT (SELECT count(*) FROM stack_split__${split}) + (SELECT count(*) FROM stack_github_split__${split}) AS n`)
      expected[`algebraic-stack/${split}`] = Number(a!.n)
    }
  }, 300_000)
  afterAll(async () => hub?.close())

  it("--dry-run --out writes the Hub layout and a card whose YAML parses and whose data_files are exactly the written files", async () => {
    // a later run of another pipeline does not hide the run that holds what is published
    expect((await dagAwait(box, ["run", "demo"])).code).toBe(0)
    // a folder dag publish did not write is refused, and left as it was
    const busy = tempDir("publish-busy")
    fs.writeFileSync(path.join(busy, "precious.txt"), "keep me")
    const refused = await dagAwait(box, ["publish", "--dry-run", "--out", busy])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/is not empty and was not written by dag publish/)
    expect(fs.readdirSync(busy)).toEqual(["precious.txt"])
    const out = path.join(tempDir("publish-dry"), "card")
    const r = await dagAwait(box, ["publish", "--dry-run", "--out", out, "--max-file-mb", "0.002"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/dry run: nothing sent/)
    expect(hub.requests.length).toBe(0) // no network
    const card = fs.readFileSync(path.join(out, "README.md"), "utf8")
    const header = YAML.parse(/^---\n([\s\S]*?)\n---\n/.exec(card)![1]!) as {
      configs: Array<{ config_name: string; data_files: Array<{ split: string; path: Array<string> }> }>
      license: string
      language: Array<string>
      task_categories: Array<string>
      size_categories: Array<string>
      pretty_name: string
    }
    expect(header.configs.map((c) => c.config_name)).toEqual(["arxiv", "open-web-math", "algebraic-stack"])
    expect(header).toMatchObject({ license: "other", language: ["en"], task_categories: ["text-generation"], size_categories: ["n<1K"] })
    const written = allFiles(path.join(out, "data"))
      .map((f) => path.relative(out, f))
      .sort()
    const listed = header.configs.flatMap((c) => c.data_files.flatMap((d) => d.path)).sort()
    expect(listed).toEqual(written)
    // each split: DuckDB reads its files with the run's row count; small --max-file-mb cut some splits into several files
    for (const c of header.configs)
      for (const d of c.data_files) {
        expect(await rowsOf(d.path.map((p) => path.join(out, p))), `${c.config_name}/${d.split}`).toBe(expected[`${c.config_name}/${d.split}`])
        d.path.forEach((p, i) => expect(p).toBe(`data/${c.config_name}/${d.split}-${String(i).padStart(5, "0")}-of-${String(d.path.length).padStart(5, "0")}.parquet`))
      }
    expect(Math.max(...header.configs.flatMap((c) => c.data_files.map((d) => d.path.length)))).toBeGreaterThan(1)
    // the body is written from the run: stages with drop reasons, overlap, tokens, versions, the command
    expect(card).toMatch(/\| `owm\/langid` \| 11 \| 9 \| not-en: 1, low-confidence: 1 \| 1 \|/)
    expect(card).toMatch(/`dedup\/minhash` \| docs 9, sigs 9 \| kept 7, clusters \d+, dropped 2/)
    expect(card).toMatch(/Test-set overlap \(`overlap\/ngram`\)[\s\S]*\| MATH \| 1 \| 1 \|/)
    expect(card).toMatch(/Decontamination \(`overlap\/decontaminate`\) removed 1 document/)
    expect(card).toMatch(/Llama-2 tokens \(counted by `tokens\/tokenize-owm`\)/)
    expect(card).toMatch(/npx dag run proof-pile-2 --profile sample/)
    const provenance = JSON.parse(fs.readFileSync(path.join(out, "mathdag.json"), "utf8")) as { artifacts: Array<{ node: string; key: string; artifact: string }>; files: Array<{ path: string }> }
    expect(provenance.artifacts.find((a) => a.node === "overlap/decontaminate")?.key).toMatch(/^[0-9a-f]{64}$/)
    expect(provenance.files.map((f) => f.path).sort()).toEqual(written)
    // staging again gives the same bytes (what makes a second publish a no-op)
    const again = path.join(tempDir("publish-dry2"), "card")
    expect((await dagAwait(box, ["publish", "--dry-run", "--out", again, "--max-file-mb", "0.002"])).code).toBe(0)
    for (const f of [...written, "README.md", "mathdag.json"]) expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(out, f))), f).toBe(true)
  }, 180_000)

  it("publishes to the Hub, reads back through the Hub input code with the same rows, and a second publish sends nothing", async () => {
    const r = await dagAwait(box, ["publish", "--to", "hf://datasets/team/pp2", "--message", "first"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/published 10 file\(s\) to hf:\/\/datasets\/team\/pp2 in 1 commit/)
    const repo = hub.repos.get("dataset:team/pp2")!
    expect(repo.commits.map((c) => c.title)).toEqual(["first"])
    expect([...hub.files("dataset", "team/pp2").keys()]).toContain("README.md")

    // the Hub input code (hf:// sources) lists and downloads what was published
    process.env.DAG_HUB_URL = hub.url
    process.env.DAG_HUB_CACHE = tempDir("publish-cache")
    try {
      for (const key of Object.keys(expected)) {
        const [config, split] = key.split("/")
        const ref = { repo: "team/pp2", revision: "main", pattern: `data/${config}/${split}-*.parquet` }
        const files = await listHubFiles(ref)
        expect(files.length, key).toBeGreaterThan(0)
        const local = await Promise.all(files.map((f) => hubFileLocal(ref, f)))
        expect(await rowsOf(local), key).toBe(expected[key])
      }
    } finally {
      delete process.env.DAG_HUB_URL
      delete process.env.DAG_HUB_CACHE
    }

    const before = hub.requests.length
    const second = await dagAwait(box, ["publish", "--to", "hf://datasets/team/pp2"])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/is up to date \(10 file\(s\) unchanged\)/)
    expect(repo.commits.length).toBe(1)
    const sent = hub.requests.slice(before)
    expect(sent.filter((q) => /\/(commit|preupload)\/|lfs-upload|objects\/batch|repos\/create/.test(q.path))).toEqual([])
  }, 180_000)

  it("a trained model goes to a model repository with a card naming the dataset this run published, its loss and its evaluations", async () => {
    const r = await dagAwait(box, ["publish", "train/tiny-lm", "--to", "hf://team/tiny-math"])
    expect(r.code, r.stderr).toBe(0)
    const files = hub.files("model", "team/tiny-math")
    expect([...files.keys()].sort()).toEqual(["README.md", "mathdag.json", "model.tinylm"])
    const exported = tempDir("publish-model-export")
    expect((await dagAwait(box, ["export", "train/tiny-lm", "--out", exported])).code).toBe(0)
    const weights = fs.readdirSync(exported).find((f) => f.endsWith(".tinylm"))!
    expect(files.get("model.tinylm")!.equals(fs.readFileSync(path.join(exported, weights)))).toBe(true)
    const card = files.get("README.md")!.toString()
    expect(YAML.parse(/^---\n([\s\S]*?)\n---\n/.exec(card)![1]!)).toMatchObject({ pipeline_tag: "text-generation", datasets: ["team/pp2"] })
    expect(card).toMatch(/Training loss \(cross-entropy, nats\) over \d+ steps/)
    expect(card).toMatch(/#### `eval\/perplexity` \(perplexity\)/)
    expect(card).toMatch(/#### `eval\/math` \(summary\)/)
    // a model to a dataset repository is refused with the right form
    const wrong = await dagAwait(box, ["publish", "train/tiny-lm", "--to", "hf://datasets/team/x"])
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/--to hf:\/\/OWNER\/NAME/)
  }, 120_000)

  it("an interrupted publish keeps its whole commits, and the re-run sends only the rest", async () => {
    // several commits (small files, small commits); the Hub fails the second commit past the client's retries
    const args = ["publish", "--to", "hf://datasets/team/resume", "--max-file-mb", "0.002", "--commit-mb", "0.01"]
    const original = hub.requests.length
    hub.failNext(/^\/api\/datasets\/team\/resume\/commit\//, 503, 5, 1)
    const r = await dagAwait(box, args)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/503/)
    const repo = hub.repos.get("dataset:team/resume")!
    expect(repo.commits.length).toBe(1)
    const kept = new Set(repo.commits[0]!.paths)
    expect(kept.has("README.md")).toBe(false) // the card goes last: it never describes files not yet there
    const uploadsBefore = hub.requests.slice(original).filter((q) => q.path.startsWith("/lfs-upload/")).length

    const mark = hub.requests.length
    const again = await dagAwait(box, args)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(new RegExp(`${kept.size} of \\d+ file\\(s\\) already there`))
    const resent = repo.commits.slice(1).flatMap((c) => c.paths)
    expect(resent.filter((p) => kept.has(p))).toEqual([]) // nothing of the first commit is sent again
    expect(new Set([...kept, ...resent]).size).toBe(hub.files("dataset", "team/resume").size)
    // LFS objects the interrupted run had stored are not uploaded twice
    const uploadsAfter = hub.requests.slice(mark).filter((q) => q.path.startsWith("/lfs-upload/")).length
    const objects = new Set([...hub.files("dataset", "team/resume").entries()].filter(([p]) => p.endsWith(".parquet")).map(([, b]) => b.toString("base64")))
    expect(uploadsBefore + uploadsAfter).toBe(objects.size)
  }, 180_000)

  it("a wrong token: a clear error (exit 2), nothing committed, and the token appears in no output, journal, report or store file", async () => {
    const wrong = "hf_wrong_token_c0ffee1234"
    const bad = { ...box, env: { ...box.env, HF_TOKEN: wrong } }
    const r = await dagAwait(bad, ["publish", "--to", "hf://datasets/team/denied"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/401 \(unauthorised\): set HF_TOKEN to a token with write access/)
    expect(hub.repos.has("dataset:team/denied")).toBe(false)
    const none = await dagAwait({ ...box, env: { ...box.env, HF_TOKEN: "" } }, ["publish", "--to", "hf://datasets/team/denied"])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/set HF_TOKEN/)
    for (const t of [TOKEN, wrong]) {
      expect(r.stdout + r.stderr).not.toContain(t)
      for (const f of [...allFiles(box.runs), ...allFiles(box.store)]) if (fs.statSync(f).size < 5_000_000) expect(fs.readFileSync(f).includes(t), f).toBe(false)
    }
  }, 120_000)

  it("bad arguments say what to do (exit 2)", async () => {
    const noTarget = await dagAwait(box, ["publish"])
    expect(noTarget.code).toBe(2)
    expect(noTarget.stderr).toMatch(/--to hf:\/\/datasets\/OWNER\/NAME/)
    const badTarget = await dagAwait(box, ["publish", "--to", "s3://bucket/x"])
    expect(badTarget.code).toBe(2)
    const typo = await dagAwait(box, ["publish", "open-web-mat", "--dry-run", "--out", tempDir("publish-typo")])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/did you mean "open-web-math"\?/)
  }, 60_000)
})
