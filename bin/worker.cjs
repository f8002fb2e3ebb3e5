// Worker-thread entry: dist/worker.cjs through the V8 code cache (see run-bundle.cjs).
"use strict"
require("./run-bundle.cjs")(require("node:path").join(__dirname, "..", "dist", "worker.cjs"))
