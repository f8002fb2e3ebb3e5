/**
 * The CLI owns the process's last-resort error handlers: an error nothing caught prints one line
 * (the stack goes to the run's journal when a run is going) and exits 3, "internal error".
 * WebAssembly runtimes built with Emscripten (the TF.js wasm backend is one) add their own
 * uncaughtException handler that rethrows, which makes Node exit with code 7 and no message;
 * `reclaimCrashHandlers()` removes such handlers after those modules load.
 */
import { redactUrlCredentials } from "./store/fsx.js"

type Sink = (message: string, stack: string) => void

const sinks = new Set<Sink>()

const handler = (e: unknown): void => {
  const err = e instanceof Error ? e : new Error(String(e))
  const message = redactUrlCredentials(err.message.split("\n")[0] ?? String(e))
  const stack = redactUrlCredentials(err.stack ?? message)
  for (const sink of sinks) {
    try {
      sink(message, stack)
    } catch {
      // a failing sink must not hide the error itself
    }
  }
  try {
    process.stderr.write(`internal error: ${message}\n${sinks.size ? "(the stack is in the run's journal)" : stack}\n`)
  } finally {
    process.exit(3)
  }
}

let owned = false

/** Installs the handlers (idempotent). */
export const installCrashHandlers = (): void => {
  owned = true
  if (!process.listeners("uncaughtException").includes(handler)) process.on("uncaughtException", handler)
  if (!process.listeners("unhandledRejection").includes(handler)) process.on("unhandledRejection", handler)
}

/**
 * Removes every other last-resort handler (call after loading a module that adds its own). Only
 * where the CLI installed its handlers: a host process (a test runner) keeps its own.
 */
export const reclaimCrashHandlers = (): void => {
  if (!owned) return
  for (const l of process.listeners("uncaughtException")) if (l !== handler) process.off("uncaughtException", l)
  for (const l of process.listeners("unhandledRejection")) if (l !== handler) process.off("unhandledRejection", l)
  installCrashHandlers()
}

/** Where the stack of an uncaught error is also recorded while a run is going (its journal). */
export const onCrash = (sink: Sink): (() => void) => {
  sinks.add(sink)
  return () => void sinks.delete(sink)
}
