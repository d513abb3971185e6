/**
 * True the first time it is asked in a turn of the event loop, false after that until the next turn: for
 * a look that a process serving requests takes once per turn rather than once per request (the requests
 * of one turn arrived together; what changes after the look is seen by the next turn).
 */
export function turnLatch(): () => boolean {
  let seen = -1;
  return () => {
    const now = currentTurn();
    if (now === seen) return false;
    seen = now;
    return true;
  };
}

// Every latch counts turns by one clock, moved by one setImmediate per turn in which any latch was asked:
// a callback of its own for each latch cost a busy server a few per turn.
let turn = 0;
let moving = false;
const move = () => {
  turn++;
  moving = false;
};

function currentTurn(): number {
  if (!moving) {
    moving = true;
    setImmediate(move);
  }
  return turn;
}
