/**
 * A promise-returning job as an Effect that, when interrupted, aborts the job and waits for it to
 * settle before the interruption completes. `Effect.tryPromise` aborts but does not wait, so a job
 * still writing (a checkpoint, a shard's temporary) could be cut off when its thread or process
 * exits right after the interruption.
 */
import { Effect } from "effect"

export const abortable = <A, E>(run: (signal: AbortSignal) => Promise<A>, onError: (e: unknown) => E, afterAbort?: () => void): Effect.Effect<A, E> =>
  Effect.async<A, E>((resume) => {
    const controller = new AbortController()
    const work = run(controller.signal)
    work.then(
      (a) => resume(Effect.succeed(a)),
      (e) => resume(Effect.fail(onError(e)))
    )
    return Effect.promise(() => {
      controller.abort()
      return work
        .then(
          () => undefined,
          () => undefined
        )
        .finally(() => afterAbort?.())
    })
  })
