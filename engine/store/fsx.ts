/**
 * Durable file primitives. Every write goes to a temporary file in the store's own tmp folder
 * (same filesystem, so rename is atomic), is fsynced, then renamed into place.
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import { readMetadata } from "./metadata.js"
import * as fsp from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { randomBytes } from "node:crypto"

export const ensureDir = (dir: string): void => {
  fs.mkdirSync(dir, { recursive: true })
}

// pid@host first: the store's start-up sweep removes temporaries whose process is gone, and on a
// shared filesystem only this host can tell whether one of its pids is alive. The random part is
// drawn once per process (worker threads share the pid, so each draws its own).
const processTag = randomBytes(4).toString("hex")
let tempCounter = 0
export const HOST_TAG = os.hostname().replace(/[^a-zA-Z0-9]/g, "_")

export const tempName = (dir: string, hint: string): string => path.join(dir, `${process.pid}@${HOST_TAG}-${processTag}${(++tempCounter).toString(36)}-${hint.replace(/[^a-zA-Z0-9._-]/g, "_")}`)

/** The pid of a temporary made on this host by tempName, or undefined (another host's, or not ours). */
export const localTempOwner = (name: string): number | undefined => {
  const [pid, host] = (name.split("-")[0] ?? "").split("@")
  const n = Number(pid)
  return Number.isInteger(n) && n > 0 && host === HOST_TAG ? n : undefined
}

/**
 * Writes `data` to `dest` atomically: temp file, fsync (when `durable`), rename. Without fsync the
 * write still survives a process crash (rename is atomic); fsync adds power-loss durability.
 */
export const writeFileAtomic = (tmpDir: string, dest: string, data: string | Uint8Array, durable = true): void => {
  ensureDir(tmpDir)
  ensureDir(path.dirname(dest))
  const tmp = tempName(tmpDir, path.basename(dest))
  try {
    const fd = fs.openSync(tmp, "w")
    try {
      if (typeof data === "string") fs.writeSync(fd, data)
      else fs.writeSync(fd, data)
      if (durable) fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, dest)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

const madeDirs = new Set<string>()
const ensureDirAsync = async (dir: string): Promise<void> => {
  if (madeDirs.has(dir)) return
  await fsp.mkdir(dir, { recursive: true })
  madeDirs.add(dir)
}

/** The asynchronous twin of writeFileAtomic: concurrent commits overlap their fsyncs. */
export const writeFileAtomicAsync = async (tmpDir: string, dest: string, data: string | Uint8Array, durable = true): Promise<void> => {
  await ensureDirAsync(tmpDir)
  await ensureDirAsync(path.dirname(dest))
  const tmp = tempName(tmpDir, path.basename(dest))
  try {
    const fh = await fsp.open(tmp, "w")
    try {
      await fh.writeFile(data)
      if (durable) await fh.sync()
    } finally {
      await fh.close()
    }
    await fsp.rename(tmp, dest)
  } catch (e) {
    await fsp.rm(tmp, { force: true })
    throw e
  }
}

export const fsyncFile = async (file: string): Promise<void> => {
  const fh = await fsp.open(file, "r+")
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** JSON whose shape the caller checks itself; a damaged file reads as missing, with a warning. */
export const readJsonOr = <A>(file: string, fallback: A): A => readMetadata(file, Schema.Unknown, fallback, "it is treated as missing") as A

export const isPidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    return !/^State:\s+Z/m.test(status)
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"
  }
}

/**
 * Hides credentials written into URLs (`https://user:secret@host/…` → `https://***@host/…`), so that a
 * password in DAG_HUB_URL or an input URL never reaches a journal, report or terminal line.
 */
export const redactUrlCredentials = (text: string): string => text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi, "$1***@")

/** Every file below `dir` (none when it does not exist). */
export const filesBelow = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
    : []

/** A store file's id: its name up to the first dot (`<hash>.parquet.xxh64` → `<hash>`). */
export const fileStem = (file: string): string => path.basename(file).split(".")[0]!
