import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // CLI tests spawn real processes that use both cores; two files at a time keeps timings sane.
    maxWorkers: 2,
    minWorkers: 1,
  },
})
