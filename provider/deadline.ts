/**
 * A signal that aborts when `cancelled` does or when `ms` have passed, with the reason
 * AbortSignal.timeout gives (a TimeoutError). Not `AbortSignal.any([cancelled, AbortSignal.timeout(ms)])`:
 * in Node 20 nothing holds on to a timeout signal that has no listener of its own, and a garbage
 * collection before it fires loses it — the deadline then never comes (a `customTimeouts` ignored). Here
 * the timer's own callback holds what it aborts.
 */
export function deadlineSignal(cancelled: AbortSignal, ms: number): AbortSignal {
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    ms,
  );
  // A finished operation leaves no process waiting for its deadline.
  timer.unref();
  return AbortSignal.any([cancelled, timeout.signal]);
}
