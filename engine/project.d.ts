/**
 * The project being run: generated when the CLI is bundled (scripts/lib/project.cjs) from the
 * project's dag.config.ts and the files in its pipelines/ folder. The engine imports nothing else
 * of a project's code.
 */
declare module "mathdag:project" {
  /** the project's folder; undefined outside any project (dag init, dag --help) */
  export const root: string | undefined
  export const config: unknown
  export const pipelines: Readonly<Record<string, () => Promise<import("./pipeline.js").Pipeline>>>
}
