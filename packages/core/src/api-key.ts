import { hash, timingSafeEqual } from 'node:crypto';

export interface ApiKeyHeaders {
  apiKey?: string | undefined;
  authorization?: string | undefined;
}

/** One-shot hash (cheaper than createHash per request); equal-length digests for timingSafeEqual. */
const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/**
 * Keys are compared as SHA-256 digests with `timingSafeEqual`, so neither the
 * key's length nor its content leaks through timing. Every active key is
 * checked (rotation), without an early exit.
 */
export function createApiKeyVerifier(keys: readonly string[]) {
  const digests = keys.map(digest);
  return (headers: ApiKeyHeaders): boolean => {
    const presented = presentedKeys(headers);
    if (presented.length === 0) return false;
    let ok = false;
    for (const candidate of presented) {
      const d = digest(candidate);
      for (const k of digests) ok = timingSafeEqual(d, k) || ok;
    }
    return ok;
  };
}

/** `X-API-Key: k`, `Authorization: Bearer k`, or Basic with the key as password (`user:k`) or user (`k:`). */
export function presentedKeys({ apiKey, authorization }: ApiKeyHeaders): string[] {
  const out: string[] = [];
  if (apiKey !== undefined && apiKey.trim() !== '') out.push(apiKey.trim());
  if (authorization === undefined) return out;
  const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(authorization);
  if (!m) return out;
  const scheme = (m[1] as string).toLowerCase();
  const value = m[2] as string;
  if (scheme === 'bearer') out.push(value);
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return out;
    const user = decoded.slice(0, colon);
    const pass = decoded.slice(colon + 1);
    if (pass !== '') out.push(pass);
    else if (user !== '') out.push(user);
  }
  return out;
}
