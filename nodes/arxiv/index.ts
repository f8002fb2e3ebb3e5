/** mathdag/nodes/arxiv: the arxiv nodes and their helpers, for a project's pipelines. */
export * from "./load.js"
