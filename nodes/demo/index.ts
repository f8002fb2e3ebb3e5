/** mathdag/nodes/demo: the demo nodes and their helpers, for a project's pipelines. */
export * from "./clean.js"
export * from "./read.js"
export * from "./summary.js"
export * from "./top-words.js"
export * from "./words.js"
