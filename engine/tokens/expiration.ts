import { invalidArgument } from "../errors.js";

/**
 * Token expirations in the Turso CLI's syntax: `never`, or a duration such as `2w1d30m`.
 *
 * Each unit appears at most once and in descending order, so every duration has exactly one spelling and a
 * typo like `1d2w` is reported instead of silently meaning something else.
 */

const UNITS = [
  ["w", 7 * 24 * 3600],
  ["d", 24 * 3600],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
] as const;

/** Beyond this the value is almost certainly a typo; use `never` for tokens that should not expire. */
export const MAX_EXPIRATION_SECONDS = 100 * 365 * 24 * 3600;

// One optional `<positive integer><unit>` group per unit, in the order of UNITS. No leading zeros, so `0s`
// and `01h` are refused along with signs, decimals and whitespace.
const DURATION = /^(?:([1-9]\d*)w)?(?:([1-9]\d*)d)?(?:([1-9]\d*)h)?(?:([1-9]\d*)m)?(?:([1-9]\d*)s)?$/;

const HINT =
  'expected "never" or a duration such as "2w1d30m", "7d" or "90s" (units w, d, h, m, s, each at most once, in that order)';

/** Parses `never` (→ null) or a duration (→ seconds). */
export function parseExpiration(input: string): number | null {
  if (input === "never") return null;
  const match = typeof input === "string" && input.length <= 64 ? DURATION.exec(input) : null;
  // The regex also matches the empty string (every group is optional), hence the length check.
  if (!match || input.length === 0) throw invalidArgument(`Invalid expiration ${quote(input)}: ${HINT}`);
  let seconds = 0;
  UNITS.forEach(([, unitSeconds], i) => {
    const count = match[i + 1];
    if (count !== undefined) seconds += Number(count) * unitSeconds;
  });
  if (seconds > MAX_EXPIRATION_SECONDS) {
    throw invalidArgument(
      `Invalid expiration ${quote(input)}: at most 100 years (e.g. "5200w"); use "never" for tokens that should not expire`,
    );
  }
  return seconds;
}

/** The inverse of parseExpiration, in canonical form (largest units first): 1_814_400 → "3w", null → "never". */
export function formatExpiration(seconds: number | null): string {
  if (seconds === null) return "never";
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_EXPIRATION_SECONDS) {
    throw invalidArgument(
      `Invalid expiration of ${String(seconds)} seconds: expected a whole number between 1 and ${MAX_EXPIRATION_SECONDS}, or null for "never"`,
    );
  }
  let rest = seconds;
  let out = "";
  for (const [unit, unitSeconds] of UNITS) {
    const count = Math.floor(rest / unitSeconds);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * unitSeconds;
  }
  return out;
}

/** Quotes user input for an error message, truncated so a pasted blob cannot flood the output. */
function quote(input: unknown): string {
  const text = String(input);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
