/**
 * Typed failures. Each one renders to a single line that says what went wrong and what to do,
 * so the CLI can print `error.message` and exit non-zero without a stack trace.
 */
import { Data } from "effect"

/** The pipeline or its wiring is wrong (cycle, missing input, duplicate name). */
export class PipelineError extends Data.TaggedError("PipelineError")<{
  readonly pipeline: string
  readonly node?: string
  readonly message: string
}> {}

/** A `--param` or config value does not fit the node's params Schema. */
export class ParamError extends Data.TaggedError("ParamError")<{
  readonly node: string
  readonly param: string
  readonly message: string
}> {}

/** Something the user named does not exist (pipeline, node, run, artifact). */
export class NotFoundError extends Data.TaggedError("NotFoundError")<{
  readonly what: string
  readonly name: string
  readonly message: string
}> {}

export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly message: string }> {}

/** The store could not be read or written (disk full, permissions, corrupt metadata). */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly path: string
  readonly message: string
  readonly transient: boolean
  readonly cause?: unknown
}> {}

/** A shard's bytes do not match the hash its manifest recorded, or its file is missing. */
export class CorruptShardError extends Data.TaggedError("CorruptShardError")<{
  readonly hash: string
  readonly path: string
  readonly message: string
}> {}

/** A node's own code failed on a shard or as a whole. */
export class NodeRunError extends Data.TaggedError("NodeRunError")<{
  readonly node: string
  readonly shard?: number
  readonly message: string
  readonly transient: boolean
  readonly cause?: unknown
  /** the user's input cannot be read at all (not a regular file, no file matches): exit code 2 */
  readonly badInput?: boolean
}> {}

/**
 * Slurm could not take the work: its commands are missing, the controller is down, or a
 * submission was rejected (Slurm's own message is kept verbatim in `slurm`).
 */
export class SlurmError extends Data.TaggedError("SlurmError")<{
  readonly reason: "missing" | "down" | "rejected" | "failed"
  readonly message: string
  readonly slurm?: string
}> {}

export class SqlError extends Data.TaggedError("SqlError")<{ readonly message: string }> {}

/** Bad input on stdin or in a file a command reads (not a node param). */
export class InputError extends Data.TaggedError("InputError")<{ readonly message: string }> {}

export type DagError = PipelineError | SlurmError | ParamError | NotFoundError | ConfigError | StoreError | CorruptShardError | NodeRunError | SqlError

const transientCodes = new Set(["EAGAIN", "EBUSY", "EMFILE", "ENFILE", "ETIMEDOUT", "ECONNRESET", "EINTR"])

/** Maps a Node.js filesystem error to a StoreError whose message tells the user what to do. */
export const storeErrorFrom = (path: string, cause: unknown): StoreError => {
  const code = (cause as { code?: string } | undefined)?.code ?? ""
  const detail = cause instanceof Error ? cause.message : String(cause)
  const advice =
    code === "ENOSPC"
      ? "the disk is full: free space (or run `dag gc`) and re-run; committed shards are kept"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied: check the store directory's owner and mode"
        : code === "EROFS"
          ? "the store is on a read-only filesystem: set `store` in dag.config.ts or DAG_STORE"
          : transientCodes.has(code)
            ? "a transient I/O error: it was retried"
            : "check the path and re-run"
  return new StoreError({ path, message: `store I/O failed at ${path} (${code || detail}): ${advice}`, transient: transientCodes.has(code), cause })
}

/** Adds the fix to failures whose cause is the disk (DuckDB and Node phrase it differently). */
export const withDiskAdvice = (message: string): string =>
  /No space left on device|ENOSPC/.test(message) && !/disk is full/.test(message) ? `${message} — the disk is full: free space (or run \`dag gc\`) and re-run; committed shards are kept` : message
