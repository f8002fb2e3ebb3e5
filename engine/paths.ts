/**
 * Two roots: the package (mathdag itself: its trainers, samples and bundles' sources) and the
 * project (the user's folder with dag.config.ts, whose relative paths, store and runs live there).
 * For this repository they are the same folder. Bundles have both baked in by the build; sources
 * run by tests find the package from this file and use it as the project.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

declare const __DAG_PACKAGE_ROOT__: string | undefined
declare const __DAG_PROJECT_ROOT__: string | undefined

const fromSources = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export const packageRoot = (): string => (typeof __DAG_PACKAGE_ROOT__ === "string" ? __DAG_PACKAGE_ROOT__ : fromSources())

export const projectRoot = (): string => process.env.DAG_ROOT || (typeof __DAG_PROJECT_ROOT__ === "string" && __DAG_PROJECT_ROOT__ !== "" ? __DAG_PROJECT_ROOT__ : packageRoot())

/** The folder of the running bundles (dag.cjs, worker.cjs, code-hashes.json): beside this code when bundled. */
export const distDir = (): string => (typeof __dirname !== "undefined" && typeof __DAG_PACKAGE_ROOT__ === "string" ? __dirname : path.join(packageRoot(), "dist"))

/**
 * A relative input path (a param, a default pointing at an embedded sample): the project's file if
 * it has one, else the package's (where the samples and models ship), else the project's path.
 */
export const resolveInput = (p: string): string => {
  if (path.isAbsolute(p)) return p
  const mine = path.join(projectRoot(), p)
  if (fs.existsSync(mine)) return mine
  const shipped = path.join(packageRoot(), p)
  return fs.existsSync(shipped) ? shipped : mine
}

/** How a file is named in keys and messages: relative to the project, "mathdag/…" inside the package, else absolute. */
export const shownPath = (abs: string): string => {
  const inProject = path.relative(projectRoot(), abs)
  if (!inProject.startsWith("..") && !path.isAbsolute(inProject)) return inProject
  const inPackage = path.relative(packageRoot(), abs)
  return !inPackage.startsWith("..") && !path.isAbsolute(inPackage) ? `mathdag/${inPackage}` : abs
}

/** This installation's mathdag version (package.json). */
export const packageVersion = (): string => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version
  } catch {
    return "0.0.0"
  }
}
