/**
 * The client side of an OpenAI-compatible `/completions` endpoint: a hosted model, a local vLLM, or
 * the PyTorch model served by trainers/torch/mathdag_serve.py. Failures are classified, because the
 * evaluation nodes must tell "the model answered badly" (a counted drop) from "the endpoint is
 * down" (nothing may be cached).
 */

/**
 * A failed request. `transient`: the endpoint is down, overloaded or slow (connection refused,
 * timeout, HTTP 429/5xx): the example says nothing about the model, and a result missing it must
 * not be cached. Otherwise the endpoint answered, badly (garbage), or refused us (HTTP 4xx).
 */
export class EndpointError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number
  ) {
    super(message)
  }
}

export interface RequestOptions {
  readonly timeoutMs: number
  readonly apiKey?: string | undefined
}

/** One POST to `<endpoint>/completions`; the parsed JSON body, or an {@link EndpointError}. */
export const postCompletions = async (endpoint: string, body: Record<string, unknown>, opts: RequestOptions): Promise<unknown> => {
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs)
  try {
    const res = await fetch(`${endpoint.replace(/\/$/, "")}/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal: ctl.signal,
    })
    if (!res.ok) {
      // the server's own reason, where it gives one (a 400 from a local server says what was wrong)
      const detail = await res.json().then(
        (b: unknown) => {
          const m = (b as { error?: { message?: unknown } } | null)?.error?.message
          return typeof m === "string" ? `: ${m.slice(0, 300)}` : ""
        },
        () => ""
      )
      throw new EndpointError(`endpoint answered HTTP ${res.status}${detail}`, res.status === 429 || res.status >= 500, res.status)
    }
    try {
      return await res.json()
    } catch {
      throw new EndpointError("endpoint returned garbage (not JSON)", false)
    }
  } catch (e) {
    if (e instanceof EndpointError) throw e
    if ((e as Error).name === "AbortError") throw new EndpointError(`endpoint timed out after ${opts.timeoutMs} ms`, true)
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    throw new EndpointError(`endpoint unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`, true)
  } finally {
    clearTimeout(timer)
  }
}

/** k completions of `prompt` (text, or token ids where the server takes them). */
export const completeRemote = async (
  endpoint: string,
  model: string,
  prompt: string | ReadonlyArray<number>,
  k: number,
  opts: RequestOptions & { maxTokens: number; temperature: number; stop: ReadonlyArray<string>; seed?: number }
): Promise<Array<string>> => {
  const body = await postCompletions(
    endpoint,
    { model, prompt, max_tokens: opts.maxTokens, temperature: opts.temperature, n: k, stop: opts.stop, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
    opts
  )
  const choices = (body as { choices?: Array<{ text?: unknown }> }).choices
  if (!Array.isArray(choices) || choices.some((c) => typeof c?.text !== "string")) throw new EndpointError("endpoint returned garbage (no choices[].text)", false)
  return choices.map((c) => c.text as string)
}

/**
 * Summed next-token negative log-likelihood of token windows, through `echo` + `logprobs` with no
 * new tokens (the way perplexity is measured over this API); `batch` windows per request.
 */
export const scoreRemote = async (
  endpoint: string,
  model: string,
  windows: ReadonlyArray<ReadonlyArray<number>>,
  opts: RequestOptions & { batch?: number }
): Promise<{ nll: number; tokens: number }> => {
  let nll = 0
  let tokens = 0
  const batch = opts.batch ?? 16
  for (let i = 0; i < windows.length; i += batch) {
    const part = windows.slice(i, i + batch)
    const body = await postCompletions(endpoint, { model, prompt: part, max_tokens: 0, echo: true, logprobs: 0 }, opts)
    const choices = (body as { choices?: Array<{ logprobs?: { token_logprobs?: Array<number | null> } }> }).choices
    if (!Array.isArray(choices) || choices.length !== part.length)
      throw new EndpointError(`endpoint returned garbage (${Array.isArray(choices) ? choices.length : "no"} choices for ${part.length} prompts)`, false)
    choices.forEach((c, j) => {
      const lps = c?.logprobs?.token_logprobs
      if (!Array.isArray(lps) || lps.length !== part[j]!.length) throw new EndpointError("endpoint returned garbage (no logprobs.token_logprobs for every prompt token)", false)
      for (const lp of lps.slice(1)) {
        if (typeof lp !== "number" || !Number.isFinite(lp)) throw new EndpointError("endpoint returned garbage (a token log-probability that is not a finite number)", false)
        nll -= lp
        tokens++
      }
    })
  }
  return { nll, tokens }
}
