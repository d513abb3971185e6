import { openEngine } from "../engine/index.js";

/**
 * A tenant for the propagate bench, in its own process (as tenants are): writes to its databases in
 * turn, without pause, and measures how long each write takes, fence waits included. The bench says
 * "begin" when a job starts and "end" when it finishes, and gets back the longest write in between.
 */
const [dataDir, databases, fenceWaitMs] = process.argv.slice(2);
const engine = await openEngine(dataDir as string, {
  recover: false,
  workers: 1,
  fenceWaitMs: Number(fenceWaitMs),
});
const names = (databases as string).split(",");
let measuring = false;
let stopping = false;
let stats = { maxStallMs: 0, writes: 0, refused: 0 };
process.on("message", (msg) => {
  if (msg === "begin") {
    stats = { maxStallMs: 0, writes: 0, refused: 0 };
    measuring = true;
  } else if (msg === "end") {
    measuring = false;
    process.send?.(stats);
  } else if (msg === "exit") stopping = true;
});
process.send?.("ready");
for (let i = 0; !stopping; i++) {
  const start = performance.now();
  try {
    await engine.execute(names[i % names.length] as string, "INSERT INTO users (name, email) VALUES (?, ?)", {
      args: [`writer ${i}`, `writer${i}@example.com`],
    });
  } catch {
    if (measuring) stats.refused++;
  }
  if (measuring) {
    stats.writes++;
    stats.maxStallMs = Math.max(stats.maxStallMs, performance.now() - start);
  }
  // A write that meets no fence never leaves the microtask queue: let the bench's messages in.
  await new Promise((resolve) => setImmediate(resolve));
}
engine.close();
process.disconnect?.();
