/**
 * The content-addressed store. Two maps, both plain files:
 *   keys/      cache key → result record (the key struct, output artifact ids, lineage)
 *   artifacts/ artifact id → manifest (shards with content hash, rows, bytes)
 *   objects/   content hash → bytes (Parquet shards, files); identical outputs are stored once
 * Commit order (object, then shard key record, then manifest, then node key record, then ref)
 * means a crash at any point leaves only complete, verifiable entries visible.
 */
import { Context, Effect, Layer } from "effect"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { arrowSchemaDescription, type Column } from "../columns.js"
import { CorruptShardError, StoreError, storeErrorFrom } from "../errors.js"
import { canonicalJson, hashStruct } from "../hash.js"
import type { KeyStruct } from "../plan.js"
import { digestFile, fastDigest, readCheck, removeCheck, writeCheck } from "./checksum.js"
import { IndexSchema, ManifestSchema, NodeRecordSchema, ShardRecordSchema, isSealed, readMetadata, sealMetadata } from "./metadata.js"
import { ensureDir, fsyncFile, isPidAlive, localTempOwner, tempName, writeFileAtomic, writeFileAtomicAsync } from "./fsx.js"

export const STORE_FORMAT = "1"

export interface ShardEntry {
  readonly hash: string
  readonly rows: number
  readonly bytes: number
}

export interface DatasetManifest {
  readonly kind: "dataset"
  readonly format: "parquet-zstd"
  readonly columns: ReadonlyArray<Column>
  readonly arrowSchema: ReadonlyArray<{ name: string; type: string; nullable: boolean }>
  readonly shards: ReadonlyArray<ShardEntry>
  readonly rows: number
  readonly bytes: number
}

export interface FileManifest {
  readonly kind: "file"
  readonly extension: string
  readonly hash: string
  readonly bytes: number
  /** the port's export name, where it has one (absent otherwise, so older manifests keep their hash) */
  readonly fileName?: string
}

export type Manifest = DatasetManifest | FileManifest

/** The manifest of a dataset made of `shards` with rows shaped by `columns`. */
export const datasetManifest = (columns: ReadonlyArray<Column>, shards: ReadonlyArray<ShardEntry>): DatasetManifest => ({
  kind: "dataset",
  format: "parquet-zstd",
  columns,
  arrowSchema: arrowSchemaDescription(columns),
  shards,
  rows: shards.reduce((a, s) => a + s.rows, 0),
  bytes: shards.reduce((a, s) => a + s.bytes, 0),
})

/** One shard's provenance: how it was made and from what (lineage). */
export interface ShardLineage {
  readonly index: number
  readonly key: string
  readonly hash: string
  readonly rows: number
  /** Input shard hashes (map) or source unit ids (source) this shard was made from. */
  readonly inputs: ReadonlyArray<string>
}

export interface ShardRecord {
  readonly key: string
  readonly struct: KeyStruct
  readonly shard: ShardEntry
  readonly rowsIn: number
  readonly dropped: Readonly<Record<string, number>>
  readonly droppedSamples?: Readonly<Record<string, ReadonlyArray<unknown>>>
  readonly inputs: ReadonlyArray<string>
  readonly run: string
  /** the Slurm job (array task) that made it, when one did */
  readonly job?: string
  readonly host: string
  readonly ms: number
  readonly at: string
}

/** What a shard computation hands to the commit (its file's digests and counts). */
export interface ComputedShard {
  readonly hash: string
  readonly bytes: number
  readonly check: string
  readonly rowsIn: number
  readonly rowsOut: number
  readonly dropped: Readonly<Record<string, number>>
  readonly droppedSamples?: Readonly<Record<string, ReadonlyArray<unknown>>>
}

/** Who made a shard, from what, and when it started. */
export interface ShardProvenance {
  readonly key: string
  readonly struct: KeyStruct
  readonly inputs: ReadonlyArray<string>
  readonly run: string
  readonly job?: string
  readonly host: string
  readonly started: number
}

export interface NodeRecord {
  readonly key: string
  readonly struct: KeyStruct
  readonly node: string
  readonly outputs: Readonly<Record<string, string>>
  /** The output manifests themselves, so a cache hit costs one file read. */
  readonly manifests?: Readonly<Record<string, Manifest>>
  readonly shards: ReadonlyArray<ShardLineage>
  readonly rowsIn: number
  readonly rowsOut: number
  readonly dropped: Readonly<Record<string, number>>
  readonly droppedSamples?: Readonly<Record<string, ReadonlyArray<unknown>>>
  readonly run: string
  readonly ms: number
  readonly at: string
}

const fanout = (root: string, id: string, ext: string) => path.join(root, id.slice(0, 2), `${id}${ext}`)
export const refFileName = (node: string) => `${node.replaceAll("/", "__")}.json`

export class Store {
  readonly objects: string
  readonly artifactsDir: string
  readonly keysDir: string
  readonly refsDir: string
  readonly tmp: string
  /** object paths verified by hash in this process, with the size and mtime seen then */
  private readonly verified = new Map<string, string>()

  constructor(readonly dir: string) {
    this.objects = path.join(dir, "objects")
    this.artifactsDir = path.join(dir, "artifacts")
    this.keysDir = path.join(dir, "keys")
    this.refsDir = path.join(dir, "refs")
    this.tmp = path.join(dir, "tmp")
  }

  /** Creates the layout, and removes temporary files left by dead processes (crashes, kill -9). */
  init(): void {
    for (const d of [this.objects, this.artifactsDir, this.keysDir, this.refsDir, this.tmp]) ensureDir(d)
    const versionFile = path.join(this.dir, "FORMAT")
    if (!fs.existsSync(versionFile)) writeFileAtomic(this.tmp, versionFile, STORE_FORMAT)
    for (const name of fs.readdirSync(this.tmp)) {
      const pid = localTempOwner(name)
      if (pid !== undefined && !isPidAlive(pid)) fs.rmSync(path.join(this.tmp, name), { recursive: true, force: true })
    }
  }

  /** Removes this process's temporaries (on interruption; other processes' are left alone). */
  removeOwnTemporaries(): void {
    for (const name of fs.readdirSync(this.tmp)) if (localTempOwner(name) === process.pid) fs.rmSync(path.join(this.tmp, name), { recursive: true, force: true })
  }

  /** A fresh private temporary path inside the store (same filesystem as objects/). */
  tempPath(hint: string): string {
    return tempName(this.tmp, hint)
  }

  objectPath(hash: string, ext: string): string {
    return fanout(this.objects, hash, ext)
  }

  /** Moves a finished temporary file into objects/ under its content hash, its fast digest beside it. */
  async commitObject(tmpFile: string, ext: string, known?: { hash: string; bytes: number; check: string }): Promise<{ hash: string; bytes: number }> {
    const { hash, bytes, check } = known ?? (await digestFile(tmpFile))
    const dest = this.objectPath(hash, ext)
    const existing = statOrUndefined(dest)
    if (existing && existing.size === bytes) {
      await fsp.rm(tmpFile, { force: true })
      return { hash, bytes }
    }
    await fsyncFile(tmpFile)
    await fsp.mkdir(path.dirname(dest), { recursive: true })
    await fsp.rename(tmpFile, dest)
    writeCheck(dest, { check, bytes })
    // We hashed these bytes ourselves: readers in this process need not hash them again.
    const st = statOrUndefined(dest)
    if (st) this.verified.set(dest, `${st.size}:${st.mtimeMs}`)
    return { hash, bytes }
  }

  /** Cheap presence check used when planning: the object exists with the recorded size. */
  hasObject(hash: string, ext: string, bytes: number): boolean {
    const st = statOrUndefined(this.objectPath(hash, ext))
    return st !== undefined && st.size === bytes
  }

  /**
   * The check every read makes: the bytes match the fast digest recorded at commit (or, without a
   * usable one, the content hash itself). A corrupt object is moved to quarantine/, never deleted,
   * so every key pointing at it misses and recomputes while the damaged bytes stay for inspection.
   */
  verifyObject(hash: string, ext: string): Effect.Effect<string, CorruptShardError> {
    const file = this.objectPath(hash, ext)
    return Effect.tryPromise({
      try: async () => {
        const st = statOrUndefined(file)
        if (!st) throw new ObjectProblem(`shard ${hash.slice(0, 12)} is missing from the store (${file}); run the pipeline again to recompute it`)
        const stamp = `${st.size}:${st.mtimeMs}`
        if (this.verified.get(file) === stamp) return file
        const recorded = readCheck(file)
        if (recorded && recorded.bytes === st.size && (await fastDigest(file)).check === recorded.check) {
          this.verified.set(file, stamp)
          return file
        }
        // No usable fast digest, or it disagrees: the content hash decides.
        const actual = await digestFile(file)
        if (actual.hash !== hash) {
          const where = this.quarantineObject(hash, ext, `content hash is ${actual.hash.slice(0, 12)}, expected ${hash.slice(0, 12)}`)
          throw new ObjectProblem(`shard ${hash.slice(0, 12)} was corrupt (its bytes no longer match their content hash); it was moved to ${where} and the next run recomputes it`)
        }
        writeCheck(file, actual)
        this.verified.set(file, stamp)
        return file
      },
      catch: (e) => new CorruptShardError({ hash, path: file, message: e instanceof ObjectProblem ? e.message : `shard ${hash.slice(0, 12)} could not be read: ${(e as Error).message}` }),
    })
  }

  /** Checks many objects, a few at a time (reads overlap with digesting). */
  verifyObjects(objects: ReadonlyArray<{ hash: string; ext: string }>, parallel = 2): Effect.Effect<void, CorruptShardError> {
    return Effect.forEach(objects, (o) => this.verifyObject(o.hash, o.ext), { concurrency: parallel, discard: true })
  }

  readonly quarantineDir = (): string => path.join(this.dir, "quarantine")

  /** Moves any store file aside into quarantine/ with a note; returns where it went. */
  quarantineFile(file: string, reason: string): string | undefined {
    const dir = this.quarantineDir()
    ensureDir(dir)
    // the folder's name too: run journals are all called run.json
    const stamp = `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`
    const dest = path.join(dir, `${path.basename(path.dirname(file))}__${path.basename(file)}.${stamp}`)
    try {
      fs.renameSync(file, dest)
    } catch {
      return undefined
    }
    fs.writeFileSync(`${dest}.why.json`, JSON.stringify({ from: file, reason, at: new Date().toISOString(), pid: process.pid }, null, 1))
    return dest
  }

  /**
   * Moves an object aside (with a note saying why) and returns where it went; a no-op returning the
   * existing place when another process moved it first.
   */
  quarantineObject(hash: string, ext: string, reason: string): string {
    const file = this.objectPath(hash, ext)
    const dest = this.quarantineFile(file, `${reason} (content hash ${hash})`)
    removeCheck(file)
    this.verified.delete(file)
    return dest ?? this.quarantineDir()
  }

  /**
   * Claims the resumable scratch folder of a node key (see GlobalContext.scratch). While another
   * live process holds it, this one gets a private folder instead (nothing to resume from), so two
   * runs never write, or resume from, the same checkpoint. `release(true)` removes the folder
   * (the node's result is committed); `release(false)` keeps it for the next attempt.
   */
  claimScratch(key: string): { dir: string; note?: string; release: (done: boolean) => void } {
    const root = path.join(this.dir, "scratch")
    ensureDir(root)
    const dir = path.join(root, key)
    const owner = `${dir}.owner`
    const me = `${os.hostname()} ${process.pid}`
    const take = (): boolean => {
      try {
        fs.writeFileSync(owner, me, { flag: "wx" })
        return true
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST") throw e
        return false
      }
    }
    let mine = take()
    if (!mine) {
      const [host, pid] = fs.readFileSync(owner, "utf8").trim().split(" ") as [string?, string?]
      const stale = host === os.hostname() && !isPidAlive(Number(pid))
      if (stale) {
        fs.rmSync(owner, { force: true })
        mine = take()
      }
      if (!mine) {
        const own = tempName(this.tmp, `scratch-${key.slice(0, 12)}`)
        return {
          dir: own,
          note: `another run (${host} pid ${pid}) is computing this node with the same key; this attempt keeps its own checkpoints in ${own}`,
          release: () => fs.rmSync(own, { recursive: true, force: true }),
        }
      }
    }
    return {
      dir,
      release: (done) => {
        if (done) fs.rmSync(dir, { recursive: true, force: true })
        fs.rmSync(owner, { force: true })
      },
    }
  }

  async putArtifact(manifest: Manifest): Promise<string> {
    const id = hashStruct(manifest)
    const file = fanout(this.artifactsDir, id, ".json")
    // rewritten when absent or damaged (a manifest is named by its content, so any good copy is the same)
    if (!fs.existsSync(file) || this.getArtifact(id) === undefined) await writeFileAtomicAsync(this.tmp, file, canonicalJson(manifest))
    return id
  }

  getArtifact(id: string): Manifest | undefined {
    const file = fanout(this.artifactsDir, id, ".json")
    const m = readMetadata(file, ManifestSchema, undefined, "it was moved to quarantine/ and is put back from its node's record, or the node is recomputed")
    // A damaged manifest is moved aside, so that the next run can put a good copy in its place.
    if (m === undefined && fs.existsSync(file)) this.quarantineFile(file, "damaged manifest")
    return m as Manifest | undefined
  }

  /**
   * The manifest of a node's output as a run recorded it. A manifest file that is missing (moved
   * aside as damaged, or lost) is put back from the copy embedded in the node's key record: the id
   * is the manifest's hash, so only the true one fits.
   */
  outputManifest(id: string, nodeKey: string | undefined, output: string): Manifest | undefined {
    const found = this.getArtifact(id)
    if (found || !nodeKey) return found
    const embedded = this.getNodeRecord(nodeKey)?.manifests?.[output]
    if (!embedded || hashStruct(embedded) !== id) return undefined
    writeFileAtomic(this.tmp, fanout(this.artifactsDir, id, ".json"), canonicalJson(embedded))
    return embedded
  }

  /** The shard committed under `key`, when its record and its whole object are both there (a cache hit). */
  committedShard(key: string): ShardRecord | undefined {
    const r = this.getShardRecord(key)
    return r && this.hasObject(r.shard.hash, ".parquet", r.shard.bytes) ? r : undefined
  }

  /**
   * Commits one computed shard: the object by rename, then its key record, last, so whoever polls the
   * keys (this run, a cluster's driver) sees a shard only once it is whole. The one commit path for
   * shards computed here and in cluster tasks.
   */
  async commitShard(tmpFile: string, result: ComputedShard, made: ShardProvenance): Promise<ShardRecord> {
    const object = await this.commitObject(tmpFile, ".parquet", { hash: result.hash, bytes: result.bytes, check: result.check })
    const record: ShardRecord = {
      key: made.key,
      struct: made.struct,
      shard: { hash: object.hash, rows: result.rowsOut, bytes: object.bytes },
      rowsIn: result.rowsIn,
      dropped: result.dropped,
      droppedSamples: result.droppedSamples,
      inputs: made.inputs,
      run: made.run,
      ...(made.job ? { job: made.job } : {}),
      host: made.host,
      ms: Date.now() - made.started,
      at: new Date().toISOString(),
    }
    await this.putShardRecord(record)
    return record
  }

  putShardRecord(r: ShardRecord): Promise<void> {
    return writeFileAtomicAsync(this.tmp, fanout(this.keysDir, r.key, ".json"), JSON.stringify(r))
  }
  /** Forgets a shard key (the object stays): the next lookup misses and the shard is recomputed. */
  forgetShardRecord(key: string): void {
    fs.rmSync(fanout(this.keysDir, key, ".json"), { force: true })
  }
  getShardRecord(key: string): ShardRecord | undefined {
    const r = readMetadata(fanout(this.keysDir, key, ".json"), ShardRecordSchema, undefined, "the shard is recomputed")
    return r as ShardRecord | undefined
  }
  async putNodeRecord(r: NodeRecord): Promise<void> {
    const text = JSON.stringify(r)
    await writeFileAtomicAsync(this.tmp, fanout(this.keysDir, r.key, ".json"), text)
    // The ref is a pointer for `dag why`, rebuilt by the next run: atomic, but no fsync needed.
    await writeFileAtomicAsync(this.tmp, path.join(this.refsDir, refFileName(r.node)), text, false)
  }
  getNodeRecord(key: string): NodeRecord | undefined {
    const r = readMetadata(fanout(this.keysDir, key, ".json"), NodeRecordSchema, undefined, "the node is recomputed")
    return r as NodeRecord | undefined
  }
  /** The last result committed for a node name, whatever its key (for `dag why`). */
  getRef(node: string): NodeRecord | undefined {
    const file = path.join(this.refsDir, refFileName(node))
    const r = readMetadata(file, NodeRecordSchema, undefined, "it was moved to quarantine/; the pipeline index stands in for it")
    if (r) return r as NodeRecord
    if (fs.existsSync(file)) this.quarantineFile(file, "damaged ref")
    // The pipeline indexes hold the same record for every node of their last run.
    for (const pipeline of this.indexedPipelines()) {
      const hit = this.readIndex(pipeline)[node]
      if (hit) return hit
    }
    return undefined
  }

  /** Every node's last committed result (damaged refs are skipped with a warning). */
  allRefs(): ReadonlyArray<NodeRecord> {
    const files = fs.existsSync(this.refsDir) ? fs.readdirSync(this.refsDir).filter((f) => f.endsWith(".json")) : []
    return files.flatMap((f) => {
      const r = readMetadata(path.join(this.refsDir, f), NodeRecordSchema, undefined, "`dag why` has no previous result to compare with until the node runs again")
      return r ? [r as NodeRecord] : []
    })
  }

  /**
   * The pipeline index: every node's latest record in one file, written at the end of a run, so a
   * no-op plan reads one file instead of one per node. Entries are only trusted when their key
   * equals the key computed now (a key always names the same result), so a stale index is harmless.
   */
  readIndex(pipeline: string): Readonly<Record<string, NodeRecord>> {
    const file = path.join(this.dir, "index", `${pipeline}.json`)
    const r = readMetadata(file, IndexSchema, {}, "planning reads each node's record instead, and the index is rewritten after the run") as Record<string, NodeRecord>
    // An index from before indexes were sealed decodes the slow way once, and is sealed now.
    if (Object.keys(r).length > 0 && !isSealed(file)) writeFileAtomic(this.tmp, file, sealMetadata(JSON.stringify(r)), false)
    return r
  }

  /** Pipelines with an index (a finished run). */
  indexedPipelines(): ReadonlyArray<string> {
    const dir = path.join(this.dir, "index")
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((f) => f.endsWith(".json"))
          .map((f) => f.slice(0, -".json".length))
      : []
  }

  async writeIndex(pipeline: string, records: Readonly<Record<string, NodeRecord>>): Promise<void> {
    await writeFileAtomicAsync(this.tmp, path.join(this.dir, "index", `${pipeline}.json`), sealMetadata(JSON.stringify(records)), false)
  }

  /** True when every object of the artifact is present with its recorded size. */
  artifactPresent(id: string, manifest?: Manifest): boolean {
    const m = manifest ?? this.getArtifact(id)
    if (!m) return false
    if (m.kind === "file") return this.hasObject(m.hash, `.${m.extension}`, m.bytes)
    return m.shards.every((s) => this.hasObject(s.hash, ".parquet", s.bytes))
  }
}

/** A verification failure whose message is already the one to show. */
class ObjectProblem extends Error {}

const statOrUndefined = (file: string): fs.Stats | undefined => fs.statSync(file, { throwIfNoEntry: false })

/** Wraps a synchronous store call, turning filesystem errors into a StoreError that says what to do. */
export const storeTry = <A>(where: string, f: () => A): Effect.Effect<A, StoreError> => Effect.try({ try: f, catch: (e) => storeErrorFrom(where, e) })

export const storeTryPromise = <A>(where: string, f: () => Promise<A>): Effect.Effect<A, StoreError> => Effect.tryPromise({ try: f, catch: (e) => storeErrorFrom(where, e) })

export class ArtifactStore extends Context.Tag("mathdag/ArtifactStore")<ArtifactStore, Store>() {
  static readonly layer = (dir: string) =>
    Layer.effect(
      ArtifactStore,
      storeTry(dir, () => {
        const s = new Store(dir)
        s.init()
        return s
      })
    )
}
