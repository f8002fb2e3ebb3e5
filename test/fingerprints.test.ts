import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fingerprintFile, saveFingerprints, useFingerprintCache } from "../engine/fingerprints.js"
import { sha256 } from "../engine/hash.js"
import { tempDir } from "./helpers.js"

describe("input fingerprints", () => {
  it("hash content, are cached by size and mtime in the store, and re-read when either changes", () => {
    const dir = tempDir("fp")
    const store = path.join(dir, "store")
    fs.mkdirSync(store)
    const file = path.join(dir, "a.txt")
    fs.writeFileSync(file, "alpha")
    const old = new Date(Date.now() - 60_000)
    fs.utimesSync(file, old, old)
    useFingerprintCache(store)
    expect(fingerprintFile(file)).toBe(sha256("alpha"))
    saveFingerprints()
    expect(JSON.parse(fs.readFileSync(path.join(store, "fingerprints.json"), "utf8"))[file].sha256).toBe(sha256("alpha"))
    // same size and mtime: the cache answers without reading (the trust model of make, git and rsync)
    fs.writeFileSync(file, "omega")
    fs.utimesSync(file, old, old)
    useFingerprintCache(store)
    expect(fingerprintFile(file)).toBe(sha256("alpha"))
    // a changed mtime (any real edit) is re-read
    const later = new Date(Date.now() - 30_000)
    fs.utimesSync(file, later, later)
    expect(fingerprintFile(file)).toBe(sha256("omega"))
    // a file written just now is never cached: its mtime cannot yet tell a second write apart
    fs.writeFileSync(file, "gamma")
    expect(fingerprintFile(file)).toBe(sha256("gamma"))
    useFingerprintCache(undefined)
  })
})
