/**
 * Row Schema → column layout. One derivation feeds three consumers: the DuckDB table a shard is
 * written through, the Arrow schema recorded in every manifest (and used by `dag export --format
 * arrow`), and the conversion of values read back (BIGINT → number).
 */
import { Schema, SchemaAST } from "effect"
import { hashStruct } from "./hash.js"

export type ColumnType =
  | { readonly kind: "string" }
  | { readonly kind: "double" }
  | { readonly kind: "int" }
  | { readonly kind: "bool" }
  | { readonly kind: "list"; readonly of: ColumnType }
  | { readonly kind: "struct"; readonly fields: ReadonlyArray<Column> }

export interface Column {
  readonly name: string
  readonly type: ColumnType
  readonly nullable: boolean
}

export class UnsupportedSchemaError extends Error {}

const isIntRefinement = (ast: SchemaAST.Refinement): boolean => {
  const id = ast.annotations[SchemaAST.SchemaIdAnnotationId]
  const ident = ast.annotations[SchemaAST.IdentifierAnnotationId]
  return ident === "Int" || (typeof id === "symbol" && String(id).includes("Int"))
}

const typeOf = (ast: SchemaAST.AST, path: string): { type: ColumnType; nullable: boolean } => {
  switch (ast._tag) {
    case "StringKeyword":
    case "TemplateLiteral":
      return { type: { kind: "string" }, nullable: false }
    case "NumberKeyword":
      return { type: { kind: "double" }, nullable: false }
    case "BooleanKeyword":
      return { type: { kind: "bool" }, nullable: false }
    case "Literal": {
      const t = typeof ast.literal
      if (t === "string") return { type: { kind: "string" }, nullable: false }
      if (t === "number") return { type: { kind: "double" }, nullable: false }
      if (t === "boolean") return { type: { kind: "bool" }, nullable: false }
      if (ast.literal === null) return { type: { kind: "string" }, nullable: true }
      break
    }
    case "Enums":
      return { type: { kind: "string" }, nullable: false }
    case "Refinement":
      if (isIntRefinement(ast)) return { type: { kind: "int" }, nullable: false }
      return typeOf(ast.from, path)
    case "Suspend":
      return typeOf(ast.f(), path)
    case "Union": {
      const nonNull = ast.types.filter((t) => !(t._tag === "Literal" && t.literal === null) && t._tag !== "UndefinedKeyword")
      const nullable = nonNull.length < ast.types.length
      const members = nonNull.map((t) => typeOf(t, path))
      const first = members[0]
      if (first && members.every((m) => JSON.stringify(m.type) === JSON.stringify(first.type))) {
        return { type: first.type, nullable: nullable || members.some((m) => m.nullable) }
      }
      break
    }
    case "TupleType":
      if (ast.elements.length === 0 && ast.rest.length === 1) {
        const inner = typeOf(ast.rest[0]!.type, `${path}[]`)
        return { type: { kind: "list", of: inner.type }, nullable: false }
      }
      break
    case "TypeLiteral":
      return { type: { kind: "struct", fields: fieldsOf(ast, path) }, nullable: false }
    case "Transformation":
      throw new UnsupportedSchemaError(`column ${path}: row Schemas must be plain data (no transformations); store the encoded form instead`)
  }
  throw new UnsupportedSchemaError(`column ${path}: type ${ast._tag} cannot be stored in a shard (use string, number, Int, boolean, arrays, structs, NullOr)`)
}

const fieldsOf = (ast: SchemaAST.TypeLiteral, path: string): Array<Column> => {
  if (ast.indexSignatures.length > 0) throw new UnsupportedSchemaError(`${path || "row"}: records with index signatures cannot be stored; use a struct`)
  return ast.propertySignatures.map((ps) => {
    const name = String(ps.name)
    const { type, nullable } = typeOf(ps.type, path ? `${path}.${name}` : name)
    return { name, type, nullable: nullable || ps.isOptional }
  })
}

const cache = new WeakMap<object, ReadonlyArray<Column>>()

/** The columns of a row Schema (which must be a Struct of plain data). */
export const columnsOf = (schema: Schema.Schema.Any): ReadonlyArray<Column> => {
  const hit = cache.get(schema)
  if (hit) return hit
  let ast = schema.ast
  while (ast._tag === "Refinement") ast = ast.from
  if (ast._tag === "Transformation") ast = ast.to
  if (ast._tag !== "TypeLiteral") throw new UnsupportedSchemaError("a row Schema must be a Schema.Struct")
  const cols = fieldsOf(ast, "")
  cache.set(schema, cols)
  return cols
}

export const schemaHash = (columns: ReadonlyArray<Column>): string => hashStruct(columns)

export const duckdbType = (t: ColumnType): string => {
  switch (t.kind) {
    case "string":
      return "VARCHAR"
    case "double":
      return "DOUBLE"
    case "int":
      return "BIGINT"
    case "bool":
      return "BOOLEAN"
    case "list":
      return `${duckdbType(t.of)}[]`
    case "struct":
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(", ")})`
  }
}

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** Values read back from DuckDB use bigint for BIGINT; rows in mathdag use plain numbers. */
export const fromDuckValue = (t: ColumnType, v: unknown): unknown => {
  if (v === null || v === undefined) return null
  switch (t.kind) {
    case "int":
      return typeof v === "bigint" ? Number(v) : v
    case "list":
      return (v as Array<unknown>).map((x) => fromDuckValue(t.of, x))
    case "struct": {
      const o = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const f of t.fields) out[f.name] = fromDuckValue(f.type, o[f.name])
      return out
    }
    default:
      return v
  }
}

/** A portable description of the Arrow schema, stored in manifests (apache-arrow type names). */
export const arrowTypeName = (t: ColumnType): string => {
  switch (t.kind) {
    case "string":
      return "Utf8"
    case "double":
      return "Float64"
    case "int":
      return "Int64"
    case "bool":
      return "Bool"
    case "list":
      return `List<${arrowTypeName(t.of)}>`
    case "struct":
      return `Struct<{${t.fields.map((f) => `${f.name}:${arrowTypeName(f.type)}`).join(", ")}}>`
  }
}

export const arrowSchemaDescription = (columns: ReadonlyArray<Column>) => columns.map((c) => ({ name: c.name, type: arrowTypeName(c.type), nullable: c.nullable }))
