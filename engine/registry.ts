/**
 * Pipelines by name. The list lives in pipelines/index.ts (one line per pipeline file); the build
 * checks that every file in pipelines/ is listed there.
 */
import { NotFoundError, PipelineError } from "./errors.js"
import type { Pipeline } from "./pipeline.js"
import { validate } from "./pipeline.js"
import { pipelines } from "../pipelines/index.js"

const loaded = new Map<string, Pipeline>()

export const pipelineNames = (): ReadonlyArray<string> => Object.keys(pipelines).sort()

/** Loads and validates a pipeline; throws NotFoundError or the first PipelineError. */
export const loadPipeline = async (name: string): Promise<Pipeline> => {
  const hit = loaded.get(name)
  if (hit) return hit
  const load = (pipelines as Record<string, (() => Promise<Pipeline>) | undefined>)[name]
  if (!load) {
    throw new NotFoundError({
      what: "pipeline",
      name,
      message: `no pipeline "${name}"; available: ${pipelineNames().join(", ")} (pipelines live in pipelines/ and are listed in pipelines/index.ts)`,
    })
  }
  const p = await load()
  const errors = validate(p)
  if (errors.length > 0) throw errors[0] as PipelineError
  loaded.set(name, p)
  return p
}
