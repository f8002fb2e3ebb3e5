/** The extraction word lists shipped with the project (nodes/owm/data/), loaded once per thread. */
import * as fs from "node:fs"
import * as path from "node:path"
import { packageRoot } from "../../../engine/paths.js"
import { parsePhrases, type Phrase } from "./boilerplate.js"
import { compileSelectors, type SelectorSet } from "./selectors.js"

let cached: { phrases: ReadonlyArray<Phrase>; banned: SelectorSet } | undefined

export const owmConfig = () => {
  if (!cached) {
    const dir = path.join(packageRoot(), "nodes", "owm", "data")
    cached = {
      phrases: parsePhrases(fs.readFileSync(path.join(dir, "boilerplate_words.txt"), "utf8")),
      banned: compileSelectors(fs.readFileSync(path.join(dir, "banned_selectors.txt"), "utf8").split("\n")),
    }
  }
  return cached
}
