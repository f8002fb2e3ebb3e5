/** mathdag/nodes/synthetic: the synthetic nodes and their helpers, for a project's pipelines. */
export * from "./layer.js"
