/**
 * The Hugging Face Hub client the engine and the hub nodes share, through `@huggingface/hub`: the
 * endpoint (`hubUrl` in dag.config.ts, or DAG_HUB_URL), the token (HF_TOKEN: sent to the Hub only,
 * never logged or stored), errors that say what to do, and retries with back-off for the
 * transient ones (HTTP 429/5xx, network).
 */
import { createRequire } from "node:module"

export const hubUrl = (): string => (process.env.DAG_HUB_URL ?? "https://huggingface.co").replace(/\/$/, "")

type HubModule = typeof import("@huggingface/hub")
let hubModule: HubModule | undefined
// Loaded lazily (only when an hf:// entry is used) through require: the CLI bundle runs from V8's
// code cache, where dynamic import() is not available.
export const hub = async (): Promise<HubModule> => (hubModule ??= createRequire(typeof __filename !== "undefined" ? __filename : import.meta.url)("@huggingface/hub") as HubModule)

export class HubError extends Error {
  constructor(
    message: string,
    readonly transient: boolean
  ) {
    super(message)
  }
}

export const explainHubError = (e: unknown, what: string, need = "read access to this dataset"): HubError => {
  const status = (e as { statusCode?: number }).statusCode
  if (status === 401 || status === 403) return new HubError(`${what}: the Hub answered ${status} (unauthorised): set HF_TOKEN to a token with ${need}`, false)
  if (status === 404) return new HubError(`${what}: not found on ${hubUrl()} (check the repository, revision and path)`, false)
  if (status === 429 || (status !== undefined && status >= 500)) return new HubError(`${what}: the Hub answered ${status}`, true)
  return new HubError(`${what}: ${(e as Error).message ?? String(e)}`, status === undefined)
}

export const withRetries = async <A>(what: string, f: () => Promise<A>, attempts = 4, need?: string): Promise<A> => {
  let last: HubError | undefined
  for (let i = 0; i < attempts; i++) {
    try {
      return await f()
    } catch (e) {
      last = e instanceof HubError ? e : explainHubError(e, what, need)
      if (!last.transient) throw last
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** i)))
    }
  }
  throw last!
}

export const credentials = () => (process.env.HF_TOKEN ? { accessToken: process.env.HF_TOKEN } : {})
