import type Database from "better-sqlite3";

/**
 * Whether a read's own bytecode proves that it ends after a handful of steps: what lets a server answer
 * it on its own thread, where better-sqlite3 could not stop it (no interrupt, no progress handler).
 *
 * The proof reads the program SQLite will run (EXPLAIN, on the same connection, against the schema of the
 * transaction it then runs in) and holds when:
 * - every instruction is of a kind that runs in bounded time: seeks, column reads, comparisons,
 *   arithmetic on values already in registers. No loop instruction (Next, Prev, VNext, SorterNext), no
 *   subroutine or coroutine (Gosub, Yield), no function call (any could be costly: randomblob, printf),
 *   no virtual table, no sorter, no ephemeral table, no whole-table count;
 * - every jump goes forward, except the one that ends the prologue (`Goto 0 1` after `Init` sent execution
 *   to the transaction set-up at the end), and nothing in the body jumps into that prologue or falls into it.
 * Then every instruction runs at most twice, and each costs a B-tree descent or a copy of a value the
 * statement returns: the read costs what it returns. A value that is itself huge (a blob of hundreds of
 * megabytes) is the one cost this cannot see; the server times what it runs and sends a database whose reads
 * ran long elsewhere.
 *
 * An allowlist, not a denylist: an opcode a later SQLite adds is not trusted until it is listed here.
 */

/** Opcodes whose p2 is a jump target (0 meaning "no jump" for MustBeInt). */
const JUMPS_P2 = new Set([
  "Init",
  "Goto",
  "SeekRowid",
  "NotExists",
  "MustBeInt",
  "If",
  "IfNot",
  "IsNull",
  "NotNull",
  "IsType",
  "IfNullRow",
  "SeekGE",
  "SeekGT",
  "SeekLE",
  "SeekLT",
  "IdxGE",
  "IdxGT",
  "IdxLE",
  "IdxLT",
  "Found",
  "NotFound",
  "NoConflict",
  "Eq",
  "Ne",
  "Lt",
  "Le",
  "Gt",
  "Ge",
  "ElseEq",
  "Once",
  "IfPos",
  "IfNotZero",
  "DecrJumpZero",
]);

/** Opcodes that never jump and run in bounded time. */
const STRAIGHT = new Set([
  "Transaction",
  "TableLock",
  "OpenRead",
  "ReopenIdx",
  "ColumnsUsed",
  "CursorHint",
  "Explain",
  "Noop",
  "Variable",
  "Integer",
  "Int64",
  "Real",
  "String8",
  "String",
  "Null",
  "SoftNull",
  "Blob",
  "Copy",
  "SCopy",
  "IntCopy",
  "Move",
  "Column",
  "Rowid",
  "IdxRowid",
  "DeferredSeek",
  "FinishSeek",
  "SeekHit",
  "NullRow",
  "Offset",
  "ResultRow",
  "Halt",
  "Affinity",
  "RealAffinity",
  "Cast",
  "TypeCheck",
  "ZeroOrNull",
  "IsTrue",
  "Not",
  "BitNot",
  "And",
  "Or",
  "BitAnd",
  "BitOr",
  "ShiftLeft",
  "ShiftRight",
  "Add",
  "Subtract",
  "Multiply",
  "Divide",
  "Remainder",
  "Concat",
  "AddImm",
  "Compare",
  "Permutation",
]);

interface Instruction {
  addr: number;
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
}

/**
 * Whether `sql`'s program, compiled on `conn` against the schema whose version is `schemaVersion` (read
 * by the caller inside the transaction it will run the statement in), is loop-free and call-free. A
 * program compiled against another schema proves nothing: SQLite would run a fresh one instead. Each
 * `Transaction` instruction carries the schema cookie it was compiled against, so that is checked too.
 */
export function isBoundedRead(
  conn: Database.Database,
  sql: string,
  bound: unknown,
  schemaVersion: number,
): boolean {
  const explain = conn.prepare(`EXPLAIN ${sql}`).safeIntegers(false);
  const program = (bound === undefined ? explain.all() : explain.all(bound)) as Instruction[];
  return (
    program.every((ins) => ins.opcode !== "Transaction" || (ins.p1 === 0 && ins.p3 === schemaVersion)) &&
    isBoundedProgram(program)
  );
}

export function isBoundedProgram(program: readonly Instruction[]): boolean {
  const init = program[0];
  if (init?.opcode !== "Init") return false;
  // The prologue: from Init's target to the end, run once before the body, ending in `Goto 0 1`.
  const prologue = init.p2;
  const last = program[program.length - 1];
  if (prologue <= 0 || prologue > program.length) return false;
  if (prologue < program.length && !(last?.opcode === "Goto" && last.p2 === 1)) return false;
  // The body must end in Halt, so that running off its end never reaches the prologue again.
  if (program[prologue - 1]?.opcode !== "Halt") return false;
  for (const [i, ins] of program.entries()) {
    if (ins.addr !== i) return false;
    if (i === 0) continue;
    if (STRAIGHT.has(ins.opcode)) continue;
    if (ins.opcode === "Jump") {
      if (![ins.p1, ins.p2, ins.p3].every((to) => forward(i, to, prologue, program.length))) return false;
      continue;
    }
    if (!JUMPS_P2.has(ins.opcode)) return false;
    if (ins.opcode === "MustBeInt" && ins.p2 === 0) continue;
    if (ins === last && ins.opcode === "Goto" && ins.p2 === 1 && prologue < program.length) continue;
    if (!forward(i, ins.p2, prologue, program.length)) return false;
  }
  return true;
}

/** A jump from `from` to `to` that moves forward and stays on its side of the prologue's start. */
function forward(from: number, to: number, prologue: number, length: number): boolean {
  if (to <= from || to >= length) return false;
  return from < prologue ? to < prologue : true;
}
