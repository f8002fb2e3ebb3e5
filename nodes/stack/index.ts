/** mathdag/nodes/stack: the stack nodes and their helpers, for a project's pipelines. */
export * from "./dedup.js"
export * from "./filter.js"
export * from "./github-filter.js"
export * from "./numpy-random.js"
export * from "./rules.js"
export * from "./source.js"
export * from "./split.js"
