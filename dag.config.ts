/**
 * Project configuration. Relative paths are relative to this file's folder.
 * DAG_STORE / DAG_RUNS / DAG_PROFILE override store, runs and profile from the environment.
 */
import { defineConfig } from "mathdag"
import { tokensExtension } from "mathdag/nodes/tokens"

const SAMPLE = {
  "tokens/tokenize-owm": { heldOut: 0.2 },
  "tokens/pack": { seqLength: 64 },
  "eval/perplexity": { split: "validation,test" },
  "train/tiny-lm": { layers: 2, heads: 2, width: 64, batch: 32, steps: 120, learningRate: 3e-3, vocab: 2048, checkpointEvery: 50 },
  "eval/math": { limit: 8, maxNewTokens: 24, shots: 1 },
}

export default defineConfig({
  store: ".dag",
  runs: "runs",
  concurrency: 16,
  retries: 2,
  // `sample` (the default) sizes the token, training and eval stages for the embedded sample, so
  // `npx dag run proof-pile-2` finishes in minutes; `full` keeps every node's own defaults (Llemma's
  // seq_length 4,096, a larger model) for real data: `--profile full`.
  defaultProfile: "sample",
  // `dag tokenize` and `dag export --format neox`
  extensions: [tokensExtension],
  profiles: {
    sample: { params: SAMPLE },
    full: {},
    // The sample, trained and evaluated with PyTorch instead of TensorFlow.js (trainers/torch; CUDA
    // when available): needs python3 with torch (Debian: apt-get install python3-torch).
    torch: {
      params: {
        ...SAMPLE,
        "train/tiny-lm": { enabled: false },
        "train/torch": { enabled: true, layers: 2, heads: 4, width: 64, batch: 16, steps: 80, learningRate: 3e-3, warmup: 10, checkpointEvery: 25 },
        "eval/perplexity": { ...SAMPLE["eval/perplexity"], trainer: "torch" },
        "eval/math": { ...SAMPLE["eval/math"], trainer: "torch" },
      },
    },
    // CI machines are small: two worker threads, fewer nodes at once.
    ci: { concurrency: 4, workers: 2, params: SAMPLE },
    // The sample on a Slurm cluster (scripts/slurm-local.sh starts one on this machine). The store
    // and runs folders must be on a filesystem every compute node mounts (DAG_STORE, DAG_RUNS).
    // Site settings (partition, account) can also come from a JSON file named by DAG_SLURM_CONFIG.
    slurm: {
      executor: "slurm",
      params: SAMPLE,
      slurm: {
        cpus: 1,
        mem: "1G",
        time: "1:00:00",
        shardsPerTask: 4,
        retries: 2,
        nodes: {
          "train/*": { cpus: 2, mem: "4G" },
          "eval/*": { mem: "2G" },
        },
      },
    },
  },
  params: {},
  // Where `hf://datasets/…` inputs come from; HF_TOKEN (never stored) authenticates.
  hubUrl: "https://huggingface.co",
})
