import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

export interface SignatureHeaders {
  /** `X-Genesys-Signature: sha256=<hex>` */
  genesys?: string | undefined;
  /** `X-Hub-Signature-256: sha256=<base64 or hex>` (Genesys Open Messaging) */
  hub?: string | undefined;
}

/** Decodes `sha256=<hex|base64>` into the 32 digest bytes, or undefined. */
export function decodeSignature(header: string, allowBase64: boolean): Buffer | undefined {
  // The form senders use, without the regular expressions (~0.3 µs a request): hex decoding stops
  // at the first non-hex character, so 32 bytes out of 64 characters means all 64 were hex.
  if (header.length === 71 && header.startsWith('sha256=')) {
    const bytes = Buffer.from(header.slice(7), 'hex');
    if (bytes.length === 32) return bytes;
  }
  return decodeSignatureByPattern(header, allowBase64);
}

/** Every accepted form (spacing, case, base64); a test holds decodeSignature's fast path to it. */
export function decodeSignatureByPattern(header: string, allowBase64: boolean): Buffer | undefined {
  const m = /^\s*sha256=(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  const value = m[1] as string;
  if (/^[0-9a-f]{64}$/i.test(value)) return Buffer.from(value, 'hex');
  if (allowBase64 && /^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}

/** Whether the request carries any signature header at all (checked before reading the body). */
export const hasSignatureHeader = (h: SignatureHeaders): boolean =>
  (h.genesys !== undefined && h.genesys !== '') || (h.hub !== undefined && h.hub !== '');

/**
 * HMAC-SHA256 over the raw body bytes, never over re-serialised JSON.
 * Several secrets may be active (rotation); comparison is constant-time.
 */
export function createSignatureVerifier(secrets: readonly string[]) {
  // Keys made once: createHmac would otherwise copy a string secret into a new buffer per request.
  const keys = secrets.map((s) => createSecretKey(Buffer.from(s, 'utf8')));
  return (body: Uint8Array, headers: SignatureHeaders): boolean => {
    const presented: Buffer[] = [];
    if (headers.genesys) {
      const d = decodeSignature(headers.genesys, false);
      if (d) presented.push(d);
    }
    if (headers.hub) {
      const d = decodeSignature(headers.hub, true);
      if (d) presented.push(d);
    }
    if (presented.length === 0) return false;
    let ok = false;
    for (const key of keys) {
      const expected = createHmac('sha256', key).update(body).digest();
      for (const p of presented) ok = timingSafeEqual(expected, p) || ok;
    }
    return ok;
  };
}

/** Signs a body the way senders do (for tests, benchmarks and the sample curl). */
export const signBody = (secret: string, body: string | Uint8Array, encoding: 'hex' | 'base64' = 'hex'): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest(encoding)}`;
