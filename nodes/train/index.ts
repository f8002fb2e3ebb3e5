/** mathdag/nodes/train: the train nodes and their helpers, for a project's pipelines. */
export * from "./model.js"
export * from "./tiny-lm.js"
export * from "./torch.js"
