/**
 * The small slice of OData `$filter` the simulator understands:
 * `Field eq 'text'` or `Field eq 123`, joined by `and`. Anything else is a 400
 * (errorCode 1000), as a real server refuses what it cannot parse.
 */
export type Filter = { field: string; value: string | number }[];

export function parseFilter(text: string | undefined): Filter | undefined {
  if (text === undefined || text.trim() === '') return [];
  const parts = text.split(/\s+and\s+/i);
  const out: Filter = [];
  for (const part of parts) {
    const m = /^\s*([A-Za-z][\w/]*)\s+eq\s+(?:'((?:[^']|'')*)'|(-?\d+))\s*$/.exec(part);
    if (!m) return undefined;
    out.push({ field: m[1] as string, value: m[2] !== undefined ? m[2].replace(/''/g, "'") : Number(m[3]) });
  }
  return out;
}

export function applyFilter<T extends object>(items: T[], filter: Filter): T[] {
  return items.filter((item) =>
    filter.every(({ field, value }) => {
      const v = (item as Record<string, unknown>)[field];
      return typeof value === 'string' && typeof v === 'string' ? v.toLowerCase() === value.toLowerCase() : v === value;
    }),
  );
}

export const traceId = (): string => {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `00-${hex(32)}-${hex(16)}-00`;
};

export const orchestratorError = (message: string, errorCode: number) => ({ message, errorCode, traceId: traceId() });

/** The ABP envelope Orchestrator uses for authentication failures. */
export const NOT_AUTHENTICATED = {
  message: 'You are not authenticated!',
  errorCode: 0,
  result: null,
  targetUrl: null,
  success: false,
  error: {
    code: 0,
    message: 'You are not authenticated!',
    details: 'You should be authenticated (sign in) in order to perform this operation.',
    validationErrors: null,
  },
  unAuthorizedRequest: false,
  __abp: true,
};
