export interface Figures {
  enginePerSecond: number;
  naivePerSecond: number;
  floorPerSecond: number;
  ratioToNaive: number;
  peakRssMb: number;
}

/** People get a small table; --json gets the figures as the last line, rounded. */
export function report(json: boolean, title: string, f: Figures) {
  const rounded = {
    enginePerSecond: Math.round(f.enginePerSecond),
    naivePerSecond: Math.round(f.naivePerSecond),
    floorPerSecond: Math.round(f.floorPerSecond),
    ratioToNaive: Math.round(f.ratioToNaive * 100) / 100,
    peakRssMb: f.peakRssMb,
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
      "",
    ].join("\n"),
  );
}
