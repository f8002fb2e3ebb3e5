/**
 * Run leases: a running `dag run` holds a lease file in `<store>/leases/` (run id, pid, host),
 * refreshed while it lives, so `dag gc` can tell that shards are being written and runs are in
 * progress. A lease whose process is gone (same host) or that was not refreshed for LEASE_TTL_MS
 * (another host, e.g. a Slurm driver on a login node) has expired.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Schema } from "effect"
import { writeFileAtomic } from "./fsx.js"

export const LEASE_REFRESH_MS = 30_000
export const LEASE_TTL_MS = 5 * 60_000

const Lease = Schema.Struct({ run: Schema.String, pid: Schema.Int, host: Schema.String, started: Schema.String })
export type Lease = Schema.Schema.Type<typeof Lease>

const leaseDir = (store: string) => path.join(store, "leases")

/** Takes a lease for `run`; the returned function releases it. */
export const takeLease = (store: string, run: string): (() => void) => {
  const dir = leaseDir(store)
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${run}.json`)
  const lease: Lease = { run, pid: process.pid, host: os.hostname(), started: new Date().toISOString() }
  fs.mkdirSync(path.join(store, "tmp"), { recursive: true })
  writeFileAtomic(path.join(store, "tmp"), file, JSON.stringify(lease), false)
  const timer = setInterval(() => {
    try {
      const now = new Date()
      fs.utimesSync(file, now, now)
    } catch {
      /* released meanwhile */
    }
  }, LEASE_REFRESH_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    fs.rmSync(file, { force: true })
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Leases of runs that are still going; expired lease files are removed on the way. */
export const liveLeases = (store: string, now = Date.now()): Array<Lease> => {
  const dir = leaseDir(store)
  if (!fs.existsSync(dir)) return []
  const live: Array<Lease> = []
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(".json")) continue
    const file = path.join(dir, name)
    let lease: Lease | undefined
    let mtime = 0
    try {
      mtime = fs.statSync(file).mtimeMs
      lease = Schema.decodeUnknownSync(Lease)(JSON.parse(fs.readFileSync(file, "utf8")))
    } catch {
      lease = undefined // damaged: treated as expired
    }
    const expired = !lease || (lease.host === os.hostname() ? !alive(lease.pid) : now - mtime > LEASE_TTL_MS)
    if (expired) fs.rmSync(file, { force: true })
    else live.push(lease!)
  }
  return live
}
