/**
 * Pipelines: nodes wired together. Wiring is type-checked by TypeScript (through the phantom row
 * type of DatasetRef) and validated again here, as data, when a pipeline loads: graph shape, and
 * that every dataset an input reads has the fields (and types) the input's row Schema needs, so a
 * mis-wired pipeline fails before anything runs, not when DuckDB binds a query half-way through.
 */
import type { Schema } from "effect"
import { columnsOf, UnsupportedSchemaError, type Column, type ColumnType } from "./columns.js"
import type { Cell } from "./report/cell.js"
import type { AnyNode, AnyRef, DatasetRef, FileRef, GlobalNode, MapNode, Port, RefsOf, SourceNode } from "./node.js"
import { inputPorts, outputPorts } from "./node.js"
import { PipelineError } from "./errors.js"
import { publishConfig, wiresOf, type CardFacts, type PublishConfigInput, type PublishSpec } from "./publish/spec.js"

export interface Wire {
  readonly node: string
  readonly output: string
}

export interface PipelineNode {
  readonly node: AnyNode
  /** input port name → the upstream output feeding it */
  readonly inputs: Readonly<Record<string, Wire>>
}

export interface Pipeline {
  readonly name: string
  readonly description: string
  /** In insertion order, which is a topological order for pipelines built with `make`. */
  readonly nodes: ReadonlyArray<PipelineNode>
  /** Named outputs of the pipeline (its targets). */
  readonly targets: Readonly<Record<string, Wire>>
  /** Report cells about the whole pipeline; their queries name node views (`dag sql` names). */
  readonly report?: ReadonlyArray<Cell>
  /** Runs by name but is not listed (benchmark fixtures). */
  readonly hidden?: boolean
  /** What `dag publish` uploads: Hub configurations and the card's fixed facts. */
  readonly publish?: PublishSpec
  /**
   * The run's key figures, by name: SQL over the nodes' views (`dag sql` names) whose first
   * value is the figure. Computed with each run's report; `dag runs` and the runs page compare them.
   */
  readonly metrics?: Readonly<Record<string, string>>
}

type InputRefs<Ins extends Record<string, Port>> = RefsOf<Ins>

export interface Builder {
  add<O>(node: SourceNode<any, O>): DatasetRef<O>
  add<I, O>(node: MapNode<any, I, O>, input: DatasetRef<I>): DatasetRef<O>
  add<Ins extends Record<string, Port>, Outs extends Record<string, Port>>(node: GlobalNode<any, Ins, Outs>, inputs: InputRefs<Ins>): RefsOf<Outs>
}

const refOf = (node: string, output: string, port: Port): AnyRef =>
  port._tag === "Dataset" ? ({ _tag: "DatasetRef", node, output } as DatasetRef<unknown>) : ({ _tag: "FileRef", node, output } as FileRef)

export const make = (
  name: string,
  build: (p: Builder) => Record<string, AnyRef> | void,
  options: {
    readonly description?: string
    readonly report?: ReadonlyArray<Cell>
    readonly hidden?: boolean
    /** `dag publish`: the card's facts and one Hub configuration per subset (refs the build returned, by target name) */
    readonly publish?: { readonly card: CardFacts; readonly configs: (targets: Record<string, AnyRef>) => ReadonlyArray<PublishConfigInput> }
    /** key figures of a run, by name: SQL over node views whose first value is the figure */
    readonly metrics?: Readonly<Record<string, string>>
  } = {}
): Pipeline => {
  const nodes: Array<PipelineNode> = []
  const builder: Builder = {
    add: (node: AnyNode, inputs?: unknown): any => {
      const wires: Record<string, Wire> = {}
      if (node.kind === "map") {
        const ref = inputs as AnyRef | undefined
        if (ref) wires.in = { node: ref.node, output: ref.output }
      } else if (node.kind === "global") {
        for (const [k, ref] of Object.entries((inputs ?? {}) as Record<string, AnyRef | undefined>)) {
          if (ref) wires[k] = { node: ref.node, output: ref.output }
        }
      }
      nodes.push({ node, inputs: wires })
      const outs = outputPorts(node)
      if (node.kind !== "global") return refOf(node.name, "out", outs.out!)
      return Object.fromEntries(Object.entries(outs).map(([k, port]) => [k, refOf(node.name, k, port)]))
    },
  }
  const result = build(builder) ?? {}
  const targets = Object.fromEntries(Object.entries(result).map(([k, r]) => [k, { node: r.node, output: r.output }]))
  const publish = options.publish ? { card: options.publish.card, configs: options.publish.configs(result as Record<string, AnyRef>).map(publishConfig) } : undefined
  return {
    name,
    description: options.description ?? "",
    nodes,
    targets,
    ...(options.report ? { report: options.report } : {}),
    ...(options.hidden ? { hidden: true } : {}),
    ...(publish ? { publish } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  }
}

/** Validates a pipeline as a graph: duplicate names, unwired or dangling inputs, port kinds, cycles. */
export const validate = (pipeline: Pipeline): ReadonlyArray<PipelineError> => {
  const errors: Array<PipelineError> = []
  const fail = (node: string | undefined, message: string) => errors.push(new PipelineError({ pipeline: pipeline.name, ...(node ? { node } : {}), message }))
  const byName = new Map<string, PipelineNode>()
  for (const pn of pipeline.nodes) {
    if (byName.has(pn.node.name)) fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" is added twice; give each node a unique name`)
    byName.set(pn.node.name, pn)
  }
  for (const pn of pipeline.nodes) {
    const ports = inputPorts(pn.node)
    for (const [inputName, port] of Object.entries(ports)) {
      const wire = pn.inputs[inputName]
      if (!wire) {
        fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" input "${inputName}" is not wired; pass it to p.add`)
        continue
      }
      const upstream = byName.get(wire.node)
      if (!upstream) {
        fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" input "${inputName}" reads "${wire.node}", which is not in the pipeline; add it first`)
        continue
      }
      const out = outputPorts(upstream.node)[wire.output]
      if (!out) fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" input "${inputName}" reads missing output "${wire.node}.${wire.output}"`)
      else if (out._tag !== port._tag)
        fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" input "${inputName}" expects a ${port._tag} but "${wire.node}.${wire.output}" is a ${out._tag}`)
      else if (out._tag === "Dataset" && port._tag === "Dataset") {
        const problems = rowMismatches(out.schema, port.schema)
        if (problems.length > 0) {
          fail(
            pn.node.name,
            `pipeline ${pipeline.name}: "${wire.node}"${wire.output === "out" ? "" : ` (output ${wire.output})`} cannot feed "${pn.node.name}"${inputName === "in" ? "" : ` (input ${inputName})`}: ${problems.join("; ")}`
          )
        }
      }
    }
    for (const extra of Object.keys(pn.inputs)) {
      if (!(extra in ports)) fail(pn.node.name, `pipeline ${pipeline.name}: node "${pn.node.name}" has no input named "${extra}"`)
    }
  }
  for (const config of pipeline.publish?.configs ?? []) {
    for (const w of wiresOf(config)) {
      const port = byName.get(w.node) && outputPorts(byName.get(w.node)!.node)[w.output]
      if (!port || port._tag !== "Dataset") fail(w.node, `pipeline ${pipeline.name}: publish configuration "${config.name}" reads "${w.node}.${w.output}", which is not a dataset of this pipeline`)
    }
  }
  const cycle = findCycle(pipeline)
  if (cycle) fail(cycle[0], `pipeline ${pipeline.name}: cycle ${cycle.join(" → ")}; a node cannot depend on its own output`)
  return errors
}

const findCycle = (pipeline: Pipeline): ReadonlyArray<string> | undefined => {
  const deps = new Map(pipeline.nodes.map((pn) => [pn.node.name, Object.values(pn.inputs).map((w) => w.node)]))
  const state = new Map<string, 1 | 2>()
  const stack: Array<string> = []
  const visit = (n: string): ReadonlyArray<string> | undefined => {
    if (state.get(n) === 2) return undefined
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n]
    state.set(n, 1)
    stack.push(n)
    for (const d of deps.get(n) ?? []) {
      if (!deps.has(d)) continue
      const c = visit(d)
      if (c) return c
    }
    stack.pop()
    state.set(n, 2)
    return undefined
  }
  for (const n of deps.keys()) {
    const c = visit(n)
    if (c) return c
  }
  return undefined
}

/** Topological order (dependencies first), stable with respect to insertion order. */
export const topoOrder = (pipeline: Pipeline): ReadonlyArray<PipelineNode> => {
  const byName = new Map(pipeline.nodes.map((pn) => [pn.node.name, pn]))
  const done = new Set<string>()
  const out: Array<PipelineNode> = []
  const visit = (pn: PipelineNode) => {
    if (done.has(pn.node.name)) return
    done.add(pn.node.name)
    for (const w of Object.values(pn.inputs)) {
      const up = byName.get(w.node)
      if (up) visit(up)
    }
    out.push(pn)
  }
  for (const pn of pipeline.nodes) visit(pn)
  return out
}

/** The named nodes and all their ancestors (what `--select` runs). */
export const ancestorsOf = (pipeline: Pipeline, names: ReadonlyArray<string>): ReadonlySet<string> => {
  const byName = new Map(pipeline.nodes.map((pn) => [pn.node.name, pn]))
  const keep = new Set<string>()
  const visit = (n: string) => {
    if (keep.has(n)) return
    keep.add(n)
    for (const w of Object.values(byName.get(n)?.inputs ?? {})) visit(w.node)
  }
  names.forEach(visit)
  return keep
}

/** The named nodes and all their descendants. */
export const descendantsOf = (pipeline: Pipeline, names: ReadonlyArray<string>): ReadonlySet<string> => {
  const out = new Set(names)
  for (const pn of topoOrder(pipeline)) {
    if (Object.values(pn.inputs).some((w) => out.has(w.node))) out.add(pn.node.name)
  }
  return out
}

const typeText = (t: ColumnType): string => (t.kind === "list" ? `list of ${typeText(t.of)}` : t.kind === "struct" ? `struct {${t.fields.map((f) => f.name).join(", ")}}` : t.kind)

/** Whether values of column type `given` can be read as `wanted` (an int where a double is wanted is fine). */
const fits = (given: ColumnType, wanted: ColumnType): boolean => {
  if (given.kind === "int" && wanted.kind === "double") return true
  if (given.kind !== wanted.kind) return false
  if (given.kind === "list" && wanted.kind === "list") return fits(given.of, wanted.of)
  if (given.kind === "struct" && wanted.kind === "struct") return fieldMismatches(given.fields, wanted.fields, "").length === 0
  return true
}

const fieldMismatches = (given: ReadonlyArray<Column>, wanted: ReadonlyArray<Column>, prefix: string): Array<string> => {
  const byName = new Map(given.map((c) => [c.name, c]))
  const out: Array<string> = []
  for (const w of wanted) {
    const g = byName.get(w.name)
    if (!g) out.push(`field "${prefix}${w.name}" (${typeText(w.type)}) is missing`)
    else if (!fits(g.type, w.type)) out.push(`field "${prefix}${w.name}" is ${typeText(g.type)}, expected ${typeText(w.type)}`)
    else if (g.nullable && !w.nullable) out.push(`field "${prefix}${w.name}" may be null, but is required`)
  }
  return out
}

/**
 * Why rows of Schema `given` do not satisfy Schema `wanted` (empty when they do): each field the
 * reader needs must be there with a type it can read. Extra fields are fine (they are not read).
 */
export const rowMismatches = (given: Schema.Schema.AnyNoContext, wanted: Schema.Schema.AnyNoContext): ReadonlyArray<string> => {
  if (given === wanted) return []
  try {
    return fieldMismatches(columnsOf(given), columnsOf(wanted), "")
  } catch (e) {
    if (e instanceof UnsupportedSchemaError) return [] // reported where the node writes its rows
    throw e
  }
}
