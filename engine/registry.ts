/**
 * The project's pipelines by name: one per file in its pipelines/ folder (the file name is the
 * pipeline's name), found when the CLI is bundled. A pipeline made with `hidden: true` (benchmarks,
 * fixtures) runs by name but is not listed.
 */
import { pipelines, root } from "mathdag:project"
import { NotFoundError, PipelineError } from "./errors.js"
import type { Pipeline } from "./pipeline.js"
import { validate } from "./pipeline.js"
import { suggest } from "./suggest.js"

const loaded = new Map<string, Pipeline>()

/** Every pipeline file's name, hidden ones included. */
export const allPipelineNames = (): ReadonlyArray<string> => Object.keys(pipelines).sort()

/** The pipelines shown to users: every one not made with `hidden: true` (loads them; they are small). */
export const pipelineNames = async (): Promise<ReadonlyArray<string>> => {
  const out: Array<string> = []
  for (const name of allPipelineNames()) {
    const p = await loadPipeline(name).catch(() => undefined)
    if (!p?.hidden) out.push(name)
  }
  return out
}

const notFound = async (name: string): Promise<NotFoundError> => {
  const shown = await pipelineNames()
  const hint = suggest(name, allPipelineNames())
  return new NotFoundError({
    what: "pipeline",
    name,
    message: root
      ? `no pipeline "${name}"; ${hint ? `did you mean "${hint}"? Available` : "available"}: ${shown.join(", ") || "none"} (one per file in ${root}/pipelines/)`
      : `no dag.config.ts in ${process.cwd()} or any folder above it: run dag inside a project, or create one with \`dag init\``,
  })
}

/** Loads and validates a pipeline; throws NotFoundError or the first PipelineError. */
export const loadPipeline = async (name: string): Promise<Pipeline> => {
  const hit = loaded.get(name)
  if (hit) return hit
  const load = (pipelines as Record<string, (() => Promise<Pipeline>) | undefined>)[name]
  if (!load) throw await notFound(name)
  const p = await load()
  if (!p || typeof p !== "object" || !Array.isArray((p as Pipeline).nodes)) {
    throw new PipelineError({ pipeline: name, message: `pipelines/${name}.ts must \`export default Pipeline.make("${name}", …)\`` })
  }
  if (p.name !== name) throw new PipelineError({ pipeline: name, message: `pipelines/${name}.ts makes a pipeline named "${p.name}": the file name is the pipeline's name; rename one of them` })
  const errors = validate(p)
  if (errors.length > 0) throw errors[0] as PipelineError
  loaded.set(name, p)
  return p
}
