/**
 * A whole number as tenantdb reads one from text — an option, an environment variable, a query parameter:
 * decimal digits only (no sign, exponent, fraction or hex), from `min` to `max`. Undefined for anything
 * else; each caller refuses it in its own layer's words.
 */
export function wholeNumber(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}
