import type { JobProgress } from "../engine/index.js";

/**
 * A one-line progress display on stderr for long jobs. It draws only on a terminal and never with --json,
 * so scripts and pipes see clean output.
 */
export function jobProgress(enabled: boolean): { onProgress?: (p: JobProgress) => void; done(): void } {
  if (!enabled || !process.stderr.isTTY) return { done() {} };
  let last = 0;
  let drawn = false;
  return {
    onProgress(p) {
      const t = Date.now();
      if (p.done < p.total && t - last < 100) return;
      last = t;
      const phase = p.phase === "dry_run" ? "dry run" : "applying";
      const width = 30;
      const filled = Math.round((p.done / Math.max(1, p.total)) * width);
      process.stderr.write(
        `\r  job ${p.jobId} ${phase.padEnd(8)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.done}/${p.total}\x1b[K`,
      );
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write("\r\x1b[K");
    },
  };
}
