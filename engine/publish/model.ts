/**
 * Publishing a trained model: a node's file outputs (weights, config, tokenizer) with a model card
 * written from the run: the data it was trained on (the dataset this run published, when it did),
 * a summary of its loss curve, and what the nodes that evaluated it measured.
 */
import type { DuckDBConnection } from "@duckdb/node-api"
import * as fs from "node:fs"
import * as path from "node:path"
import { outputPorts } from "../node.js"
import type { RunRecord } from "../journal.js"
import { packageVersion } from "../paths.js"
import type { Pipeline } from "../pipeline.js"
import { queryRows } from "../store/duckdb.js"
import type { Store } from "../store/store.js"
import { datasetOf, relationOf, type PublishedFile } from "./layout.js"
import { claimOut, reproduceCommand } from "./stage.js"

/** Nodes with file outputs (weights) that can be published as a model. */
export const modelNodes = (pipeline: Pipeline): ReadonlyArray<string> => pipeline.nodes.filter((pn) => Object.values(outputPorts(pn.node)).some((p) => p._tag === "File")).map((pn) => pn.node.name)

const q = (s: string): string => JSON.stringify(s)
const cell = (v: unknown): string => (typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-US") : v.toPrecision(4)) : String(v ?? "")).replace(/\|/g, "\\|").replace(/\n/g, " ")

export const stageModel = async (
  c: DuckDBConnection,
  pipeline: Pipeline,
  run: RunRecord,
  store: Store,
  node: string,
  out: string,
  o: { readonly repo: string; readonly dataset?: string; readonly log: (line: string) => void }
): Promise<{ files: Array<PublishedFile>; card: string }> => {
  const pn = pipeline.nodes.find((n) => n.node.name === node)!
  const log = run.nodes.find((n) => n.node === node)
  if (!log || log.status === "skipped" || Object.keys(log.outputs).length === 0) throw new Error(`run ${run.run} has no outputs for "${node}" (was it enabled? see \`dag status --run ${run.run}\`)`)
  claimOut(out)
  const files: Array<PublishedFile> = []
  for (const [output, port] of Object.entries(outputPorts(pn.node))) {
    if (port._tag !== "File") continue
    const id = log.outputs[output]
    const m = id ? store.outputManifest(id, log.key, output) : undefined
    if (!m || m.kind !== "file") throw new Error(`${node}.${output} is gone from the store; re-run the pipeline`)
    const name = m.fileName && path.basename(m.fileName) === m.fileName ? m.fileName : `${output}.${m.extension}`
    const local = path.join(out, name)
    fs.copyFileSync(store.objectPath(m.hash, `.${m.extension}`), local)
    files.push({ path: name, local, bytes: m.bytes })
  }

  // the loss curve, when the node writes one (a dataset with step and loss)
  const lossLines: Array<string> = []
  const loss = log.outputs.loss ? datasetOf(store, run, { node, output: "loss" }) : undefined
  if (loss && typeof loss !== "string" && loss.columns.some((col) => col.name === "loss")) {
    const [s] = (
      await queryRows(
        c,
        `SELECT count(*)::BIGINT AS steps, arg_min(loss, step) AS first, arg_max(loss, step) AS last, min(loss) AS best, arg_min(step, loss)::BIGINT AS best_step FROM ${relationOf(store, loss)}`
      )
    ).rows
    if (s && Number(s.steps) > 0)
      lossLines.push(
        `Training loss (cross-entropy, nats) over ${cell(Number(s.steps))} steps: ${cell(Number(s.first))} at the first step, ${cell(Number(s.last))} at the last, lowest ${cell(Number(s.best))} (step ${cell(Number(s.best_step))}).`
      )
  }

  // what the nodes reading this model measured: every dataset they wrote
  const evaluations: Array<string> = []
  for (const reader of pipeline.nodes.filter((r) => Object.values(r.inputs).some((w) => w.node === node))) {
    const rlog = run.nodes.find((n) => n.node === reader.node.name)
    if (!rlog || Object.keys(rlog.outputs).length === 0) continue
    for (const output of Object.keys(rlog.outputs)) {
      const m = datasetOf(store, run, { node: reader.node.name, output })
      if (typeof m === "string" || m.rows === 0 || m.rows > 20) continue // summaries, not per-example predictions
      const rows = (await queryRows(c, `SELECT * FROM ${relationOf(store, m)} LIMIT 20`)).rows
      const cols = m.columns.map((col) => col.name)
      evaluations.push(
        `#### \`${reader.node.name}\` (${output})`,
        "",
        `| ${cols.join(" | ")} |`,
        `| ${cols.map(() => "---").join(" | ")} |`,
        ...rows.map((r) => `| ${cols.map((k) => cell(r[k])).join(" | ")} |`),
        ""
      )
    }
  }

  const hasConfig = files.some((f) => f.path === "config.json")
  const header = [
    "---",
    `license: ${q(pipeline.publish?.card.license ?? "other")}`,
    ...(pipeline.publish ? ["language:", ...pipeline.publish.card.language.map((l) => `- ${q(l)}`)] : []),
    ...(hasConfig ? [`library_name: ${q("transformers")}`] : []),
    `pipeline_tag: ${q("text-generation")}`,
    "tags:",
    `- ${q("mathdag")}`,
    ...(o.dataset ? ["datasets:", `- ${q(o.dataset.replace(/^hf:\/\/datasets\//, "").replace(/@.*$/, ""))}`] : []),
    "---",
  ]
  const card = [
    ...header,
    "",
    `# ${o.repo.split("/")[1]}`,
    "",
    `A language model trained by the node \`${node}\` (version ${pn.node.version}) of the mathdag pipeline \`${pipeline.name}\`, run \`${run.run}\` (profile \`${run.profile}\`, started ${run.startedAt}).`,
    "",
    "## Training data",
    "",
    o.dataset
      ? `The packed token windows of the corpus published as [${o.dataset}](${o.dataset.replace(/^hf:\/\/datasets\//, "https://huggingface.co/datasets/").replace(/@.*$/, "")}) from the same run${o.dataset.includes("@") ? ` (revision ${o.dataset.replace(/^.*@/, "")})` : ""}.`
      : `The packed token windows of run \`${run.run}\` (that corpus has not been published; publish it with \`dag publish --to hf://datasets/OWNER/NAME\`).`,
    "",
    "## Training",
    "",
    lossLines.length ? lossLines.join("\n") : "No loss curve was recorded.",
    "",
    ...(evaluations.length ? ["## Evaluation", "", ...evaluations] : []),
    "## Files",
    "",
    ...files.map((f) => `- \`${f.path}\` (${f.bytes.toLocaleString("en-US")} bytes)`),
    "",
    `Made with mathdag ${packageVersion()}; node key \`${log.key ?? ""}\`.`,
    "",
    "## Reproduce",
    "",
    "```sh",
    reproduceCommand(run),
    `npx dag export ${node} --out model/`,
    "```",
    "",
  ].join("\n")
  fs.writeFileSync(path.join(out, "README.md"), card)
  const provenance = { format: "mathdag-publish/1", pipeline: pipeline.name, run: run.run, node, key: log.key, outputs: log.outputs, dataset: o.dataset ?? null, mathdag: packageVersion() }
  fs.writeFileSync(path.join(out, "mathdag.json"), JSON.stringify(provenance, null, 1) + "\n")
  for (const f of ["README.md", "mathdag.json"]) files.push({ path: f, local: path.join(out, f), bytes: fs.statSync(path.join(out, f)).size })
  o.log(`${node}: ${files.length} file(s) staged`)
  return { files, card }
}
