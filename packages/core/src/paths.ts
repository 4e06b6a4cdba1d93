/**
 * Reads a dot path (`metadata.taskType`) from parsed JSON. Only own
 * properties are followed, so `__proto__` or `constructor` in a path or a
 * payload can never reach Object.prototype.
 */
const segmentsOf = new Map<string, readonly string[]>();

export function getPath(root: unknown, path: string): unknown {
  // Paths come from the routes file (a handful), read on every request: split each once.
  let segments = segmentsOf.get(path);
  if (segments === undefined) {
    segments = path.split('.');
    if (segmentsOf.size < 10_000) segmentsOf.set(path, segments);
  }
  let cur: unknown = root;
  for (const key of segments) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
