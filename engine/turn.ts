/**
 * True the first time it is asked in a turn of the event loop, false after that until the next turn: for
 * a look that a process serving requests takes once per turn rather than once per request (the requests
 * of one turn arrived together; what changes after the look is seen by the next turn).
 */
export function turnLatch(): () => boolean {
  let taken = false;
  return () => {
    if (taken) return false;
    taken = true;
    setImmediate(() => {
      taken = false;
    });
    return true;
  };
}
