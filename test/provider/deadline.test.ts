import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { deadlineSignal } from "../../provider/deadline.js";

// A real garbage collection between the deadline's start and its end: what lost Node's own timeout signal.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("deadlineSignal", () => {
  it("aborts with a TimeoutError once its time has passed, garbage collections in between", async () => {
    const cancelled = new AbortController();
    const signal = deadlineSignal(cancelled.signal, 100);
    gc();
    await sleep(20);
    gc();
    await sleep(400);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("aborts at once, with its reason, when the provider is cancelled", () => {
    const cancelled = new AbortController();
    const signal = deadlineSignal(cancelled.signal, 60_000);
    cancelled.abort(new Error("cancelled by the engine"));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("cancelled by the engine");
  });
});
