/** Where the project lives, whether running from the bundle (dist/) or from sources (tests). */
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const projectRoot = (): string =>
  process.env.DAG_ROOT ??
  (typeof __dirname !== "undefined" && path.basename(__dirname) === "dist"
    ? path.resolve(__dirname, "..")
    : path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."))

/** dist/ holds the bundles (built by `npm run build`; bin/dag.js rebuilds them when sources change). */
export const distDir = (): string => path.join(projectRoot(), "dist")
