/** mathdag/nodes/dedup: the dedup nodes and their helpers, for a project's pipelines. */
export * from "./clusters.js"
export * from "./exact.js"
export * from "./minhash.js"
export * from "./minhash-simd.js"
export * from "./signature.js"
export * from "./simhash.js"
