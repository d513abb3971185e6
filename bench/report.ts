export interface Figures {
  enginePerSecond: number;
  naivePerSecond: number;
  floorPerSecond: number;
  ratioToNaive: number;
  peakRssMb: number;
}

/**
 * A job's duration and the longest write a tenant saw meanwhile (see propagate-stall.ts), for each class of
 * job; each stall is shown as a ratio to its job.
 */
export interface StallFigures {
  additiveJobMs: number;
  additiveMaxStallMs: number;
  dataJobMs: number;
  dataMaxStallMs: number;
  writesDuringJobs: number;
  refusedDuringJobs: number;
}

/** People get a small table; --json gets the figures as the last line, rounded. */
export function report(json: boolean, title: string, f: Figures, stalls?: StallFigures) {
  const ratio = (part: number, whole: number) => Math.round((part / whole) * 1000) / 1000;
  const stallFigures = stalls && {
    ...Object.fromEntries(Object.entries(stalls).map(([k, v]) => [k, Math.round(v)])),
    additiveStallRatio: ratio(stalls.additiveMaxStallMs, stalls.additiveJobMs),
    dataStallRatio: ratio(stalls.dataMaxStallMs, stalls.dataJobMs),
  };
  const rounded = {
    enginePerSecond: Math.round(f.enginePerSecond),
    naivePerSecond: Math.round(f.naivePerSecond),
    floorPerSecond: Math.round(f.floorPerSecond),
    ratioToNaive: Math.round(f.ratioToNaive * 100) / 100,
    peakRssMb: f.peakRssMb,
    ...stallFigures,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(rounded)}\n`);
    return;
  }
  const row = (label: string, perSecond: number, note: string) =>
    `  ${label.padEnd(34)}${String(perSecond).padStart(8)} db/s   ${note}`;
  process.stdout.write(
    [
      title,
      row("tenantdb", rounded.enginePerSecond, `${rounded.ratioToNaive}x the naive loop`),
      row("naive better-sqlite3 loop", rounded.naivePerSecond, "baseline, same run"),
      row(
        "disk floor (write + fdatasync)",
        rounded.floorPerSecond,
        `${(f.enginePerSecond / f.floorPerSecond).toFixed(2)}x the floor`,
      ),
      `  peak RSS ${rounded.peakRssMb} MB`,
      ...(stalls && stallFigures
        ? [
            `  additive job ${Math.round(stalls.additiveJobMs)} ms, longest write meanwhile ${Math.round(stalls.additiveMaxStallMs)} ms (${stallFigures.additiveStallRatio} of the job)`,
            `  data-dependent job ${Math.round(stalls.dataJobMs)} ms, longest write meanwhile ${Math.round(stalls.dataMaxStallMs)} ms (${stallFigures.dataStallRatio} of the job)`,
            `  ${stalls.writesDuringJobs} writes during the jobs, ${stalls.refusedDuringJobs} refused`,
          ]
        : []),
      "",
    ].join("\n"),
  );
}
