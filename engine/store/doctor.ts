/**
 * A whole-store check (`dag doctor`): every metadata file decodes and names its own content, every
 * object matches its digest, and what the latest results point at is there. Damaged files are
 * moved to quarantine/ (never deleted), so the next run rebuilds or recomputes exactly them.
 */
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { hashStruct } from "../hash.js"
import { isSidecar } from "./checksum.js"
import { fileStem, filesBelow } from "./fsx.js"
import { decodeMetadata, FingerprintCacheSchema, IndexSchema, ManifestSchema, NodeRecordSchema, RunRecordSchema, ShardRecordSchema } from "./metadata.js"
import type { Manifest, Store } from "./store.js"

export interface Finding {
  readonly file: string
  readonly problem: string
  readonly action: string
}

export interface DoctorReport {
  readonly objects: number
  readonly objectBytes: number
  readonly metadataFiles: number
  readonly runs: number
  readonly findings: ReadonlyArray<Finding>
}

const KeyRecord = Schema.Union(NodeRecordSchema, ShardRecordSchema)

export interface DoctorProgress {
  (done: number, total: number, bytes: number): void
}

export const examineStore = (store: Store, runsDir: string, progress: DoctorProgress = () => {}): Effect.Effect<DoctorReport> =>
  Effect.gen(function* () {
    const findings: Array<Finding> = []
    const moveAside = (file: string, problem: string, what: string) => {
      const dest = store.quarantineFile(file, problem)
      findings.push({ file, problem, action: dest ? `moved to ${dest}; ${what}` : `could not be moved aside; ${what}` })
    }
    // Decoded here without the usual one-line warnings: every problem becomes a finding instead.
    const decode = <S extends Schema.Schema.AnyNoContext>(file: string, schema: S): { ok: true; value: Schema.Schema.Type<S> } | { ok: false; why: string } => {
      let text: string
      try {
        text = fs.readFileSync(file, "utf8")
      } catch (e) {
        return { ok: false, why: `unreadable (${(e as Error).message})` }
      }
      const r = decodeMetadata(text, schema)
      return Either.isRight(r) ? { ok: true, value: r.right } : { ok: false, why: r.left }
    }

    let metadataFiles = 0
    for (const file of filesBelow(store.artifactsDir)) {
      metadataFiles++
      const r = decode(file, ManifestSchema)
      if (!r.ok) moveAside(file, r.why, "the next run writes it again or recomputes its node")
      else if (hashStruct(r.value) !== fileStem(file)) moveAside(file, "its content does not hash to its name", "the next run writes it again or recomputes its node")
    }
    for (const file of filesBelow(store.keysDir)) {
      metadataFiles++
      const r = decode(file, KeyRecord)
      if (!r.ok) moveAside(file, r.why, "the next run recomputes that node or shard")
      else if (r.value.key !== fileStem(file) || hashStruct(r.value.struct) !== r.value.key) moveAside(file, "its key does not match its content", "the next run recomputes that node or shard")
    }
    for (const file of filesBelow(store.refsDir)) {
      metadataFiles++
      const r = decode(file, NodeRecordSchema)
      if (!r.ok) moveAside(file, r.why, "it is written again when the node next runs")
    }
    for (const file of filesBelow(path.join(store.dir, "index"))) {
      metadataFiles++
      const r = decode(file, IndexSchema)
      if (!r.ok) moveAside(file, r.why, "the pipeline's next run rebuilds it")
    }
    const fingerprints = path.join(store.dir, "fingerprints.json")
    if (fs.existsSync(fingerprints)) {
      metadataFiles++
      const r = decode(fingerprints, FingerprintCacheSchema)
      if (!r.ok) moveAside(fingerprints, r.why, "inputs are fingerprinted again on the next run")
    }

    // A damaged run journal is moved aside too (the run's folder and event log stay).
    let runs = 0
    for (const id of fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []) {
      const file = path.join(runsDir, id, "run.json")
      if (!fs.existsSync(file)) continue
      runs++
      const r = decode(file, RunRecordSchema)
      if (!r.ok) moveAside(file, r.why, "status, sql, report and gc no longer see this run; its events.jsonl is still there")
    }

    const objects = filesBelow(store.objects).filter((f) => !isSidecar(f) && !f.endsWith(".tmp"))
    const total = objects.reduce((a, f) => a + fs.statSync(f).size, 0)
    let done = 0
    let doneBytes = 0
    for (const file of objects) {
      const name = path.basename(file)
      const dot = name.indexOf(".")
      const hash = name.slice(0, dot)
      const ext = name.slice(dot)
      const size = fs.statSync(file).size
      const r = yield* Effect.either(store.verifyObject(hash, ext))
      if (Either.isLeft(r)) findings.push({ file, problem: "bytes do not match the content hash", action: r.left.message })
      done++
      doneBytes += size
      progress(done, objects.length, doneBytes)
    }

    // What the latest result of every node points at must be present.
    for (const rec of store.allRefs()) {
      for (const [output, id] of Object.entries(rec.outputs)) {
        const m: Manifest | undefined = rec.manifests?.[output] ?? store.getArtifact(id)
        if (m && !store.artifactPresent(id, m)) {
          findings.push({ file: `${rec.node}.${output}`, problem: "some of its shards are missing", action: `the next run of a pipeline with ${rec.node} recomputes them` })
        }
      }
    }
    return { objects: objects.length, objectBytes: total, metadataFiles, runs, findings }
  })
