// `npm run bench -- NAME [flags]` runs bench/NAME.mjs. Each prints `BENCH NAME key=value …` last.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const [name, ...args] = process.argv.slice(2)
const available = fs.readdirSync(here).filter((f) => f.endsWith(".mjs") && f !== "run.mjs").map((f) => f.replace(/\.mjs$/, ""))
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [flags]\nbenchmarks: ${available.join(", ")}`)
  process.exit(2)
}
const mod = await import(path.join(here, `${name}.mjs`))
await mod.main(args)
