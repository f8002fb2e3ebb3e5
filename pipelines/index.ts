/** Every pipeline, by the name `dag run NAME` uses. The build checks that each file here is listed. */
import type { Pipeline } from "../engine/pipeline.js"

export const pipelines = {
  dedup: () => import("./dedup.js").then((m) => m.default),
  demo: () => import("./demo.js").then((m) => m.default),
  "proof-pile-2": () => import("./proof-pile-2.js").then((m) => m.default),
  overlap: () => import("./overlap.js").then((m) => m.default),
  synthetic: () => import("./synthetic.js").then((m) => m.default),
} satisfies Record<string, () => Promise<Pipeline>>
