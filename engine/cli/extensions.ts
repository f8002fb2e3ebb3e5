/**
 * The extensions the project's dag.config.ts lists, for the CLI (its verbs and export formats).
 * Kept apart from engine/extension.ts, which node libraries import: reading the project's config
 * from there would make a node library that a config imports depend on that config.
 */
import { config } from "mathdag:project"
import { registerExecutor } from "../exec/executors.js"
import type { ExportFormat, Extension } from "../extension.js"

/** The extensions the project's dag.config.ts lists (read before the config is validated: the CLI is built from them). */
export const projectExtensions = (): ReadonlyArray<Extension> => {
  const list = (config as { extensions?: unknown } | undefined)?.extensions
  return Array.isArray(list) ? list.filter((e): e is Extension => typeof e === "object" && e !== null && typeof (e as Extension).name === "string") : []
}

/** Every export format an extension contributes, by name. */
export const extensionExportFormats = (): ReadonlyMap<string, ExportFormat> => new Map(projectExtensions().flatMap((e) => Object.entries(e.exportFormats ?? {})))

/** Makes the extensions' executors known to `dag run --executor` (called once at start-up). */
export const registerExtensionExecutors = (): void => {
  for (const e of projectExtensions()) for (const x of e.executors ?? []) registerExecutor(x)
}
