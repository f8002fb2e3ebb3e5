/**
 * mathdag's public API: what a project's nodes, pipelines and dag.config.ts import.
 *
 *   import { Node, Pipeline, Cell, defineConfig, Schema, Effect } from "mathdag"
 *
 * `Schema` and `Effect` are the engine's own copies of the `effect` package, so a project's row
 * Schemas and node programs run in the engine's runtime whichever `effect` the project installed.
 * The standard nodes are subpath imports: `mathdag/nodes/owm`, `mathdag/nodes/dedup`, …
 */
export * as Node from "./node.js"
export * as Pipeline from "./pipeline.js"
export * as Cell from "./report/cell.js"
export { defineConfig, type ConfigInput } from "./config.js"
export { NodeRunError, InputError } from "./errors.js"
export { abortable } from "./abortable.js"
export { Effect, Schema } from "effect"
