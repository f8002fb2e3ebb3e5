/** mathdag/nodes/hub: the hub nodes and their helpers, for a project's pipelines. */
export * from "./files.js"
