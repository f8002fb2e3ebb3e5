// Worker-thread entry: the project's worker bundle (DAG_WORKER_BUNDLE, set by the pool; else this
// package's dist/worker.cjs) through the V8 code cache (see run-bundle.cjs).
"use strict"
const path = require("node:path")
require("./run-bundle.cjs")(process.env.DAG_WORKER_BUNDLE || path.join(__dirname, "..", "dist", "worker.cjs"))
