/** mathdag/nodes/eval: the eval nodes and their helpers, for a project's pipelines. */
export * from "./answers.js"
export * from "./endpoint.js"
export * from "./math.js"
export * from "./model.js"
export * from "./perplexity.js"
