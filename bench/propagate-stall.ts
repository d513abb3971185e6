import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * What a tenant sees of a migration job: a writer process writes continuously to a few children while the
 * job runs, and reports the longest time one write took (its stall, fence waits included) beside the job's
 * duration. The writer waits for fences far longer than any job here, so a stall is the fence's, never
 * cut short by a refusal.
 */
export interface Stall {
  jobMs: number;
  maxStallMs: number;
  writes: number;
  refused: number;
}

export async function withWriter<T>(
  dataDir: string,
  databases: string[],
  fn: (measure: (job: () => Promise<unknown>) => Promise<Stall>) => Promise<T>,
): Promise<T> {
  const entry = fileURLToPath(new URL("./propagate-writer.js", import.meta.url));
  const writer = fork(entry, [dataDir, databases.join(","), String(600_000)], { stdio: "inherit" });
  try {
    await reply(writer);
    return await fn(async (job) => {
      writer.send("begin");
      const start = performance.now();
      await job();
      const jobMs = performance.now() - start;
      writer.send("end");
      const stats = (await reply(writer)) as Omit<Stall, "jobMs">;
      return { jobMs, ...stats };
    });
  } finally {
    writer.send("exit");
    await new Promise((resolve) => writer.once("exit", resolve));
  }
}

function reply(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the bench's writer exited (${code})`)));
  });
}
