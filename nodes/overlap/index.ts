/** mathdag/nodes/overlap: the overlap nodes and their helpers, for a project's pipelines. */
export * from "./decontaminate.js"
export * from "./ngram.js"
export * from "./testsets.js"
