import { createRequire } from "node:module"
import { defineConfig } from "vitest/config"

// loaded at run time, not bundled with this config: it is CommonJS shared with bin/dag.cjs
const { PACKAGE_ROOT, projectModuleSource, resolvePublic } = createRequire(import.meta.url)("./scripts/lib/project.cjs") as {
  PACKAGE_ROOT: string
  projectModuleSource: (root: string | undefined) => string
  resolvePublic: (specifier: string) => string | undefined
}

export default defineConfig({
  plugins: [
    {
      // the same module the CLI bundle gets: this repository's config and pipelines/ folder
      name: "mathdag-project",
      enforce: "pre",
      resolveId: (id) => (id === "mathdag:project" ? "\0mathdag:project" : /^mathdag(\/|$)/.test(id) ? resolvePublic(id) : undefined),
      load: (id) => (id === "\0mathdag:project" ? projectModuleSource(PACKAGE_ROOT) : undefined),
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CLI tests spawn real processes that use both cores; two files at a time keeps timings sane.
    maxWorkers: 2,
    minWorkers: 1,
  },
})
