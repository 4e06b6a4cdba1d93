const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `1500`, `30s`, `5m`, `24h`, `7d`, `250ms` into milliseconds.
 * A bare number is read in `bareUnit` (the variable's own unit: `_MS` or seconds).
 * Returns undefined for anything else so the caller can report the variable.
 */
export function parseDuration(text: string, bareUnit: 'ms' | 's'): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] ?? bareUnit;
  const factor = UNITS[unit];
  if (factor === undefined || !Number.isFinite(value)) return undefined;
  return Math.round(value * factor);
}
