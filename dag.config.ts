/**
 * Project configuration. Relative paths are relative to this file's folder.
 * DAG_STORE / DAG_RUNS / DAG_PROFILE override store, runs and profile from the environment.
 */
import { defineConfig } from "./engine/config.js"

export default defineConfig({
  store: ".dag",
  runs: "runs",
  concurrency: 16,
  retries: 2,
  profiles: {
    local: {},
    // CI machines are small: two worker threads, fewer nodes at once.
    ci: { concurrency: 4, workers: 2 },
  },
  params: {},
  // Where `hf://datasets/…` inputs come from; HF_TOKEN (never stored) authenticates.
  hubUrl: "https://huggingface.co",
})
