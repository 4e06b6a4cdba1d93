import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export interface AdminCredentials {
  token?: string;
  user?: string;
  password?: string;
}

const same = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export const adminEnabled = (c: AdminCredentials): boolean =>
  c.token !== undefined || (c.user !== undefined && c.password !== undefined);

/** Whether an Authorization header carries the admin bearer token or basic credentials. */
export function isAdmin(creds: AdminCredentials, authorization: string | undefined): boolean {
  if (!authorization) return false;
  const m = /^\s*(\w+)\s+(\S+)\s*$/.exec(authorization);
  if (!m) return false;
  const scheme = (m[1] as string).toLowerCase();
  const value = m[2] as string;
  if (scheme === 'bearer' && creds.token !== undefined) return same(value, creds.token);
  if (scheme === 'basic' && creds.user !== undefined && creds.password !== undefined) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return false;
    const userOk = same(decoded.slice(0, i), creds.user);
    const passOk = same(decoded.slice(i + 1), creds.password);
    return userOk && passOk;
  }
  return false;
}

/**
 * Admin surfaces need their own credentials; with none configured they are
 * disabled (404), never open. Unsafe methods from another Origin are refused,
 * since browsers re-send cached Basic credentials (CSRF on Bull Board actions).
 */
export function adminAuth(current: () => AdminCredentials): MiddlewareHandler {
  return async (c, next) => {
    const creds = current();
    if (!adminEnabled(creds)) {
      return c.json(
        {
          error: 'not_found',
          message: 'admin endpoints are disabled: set ADMIN_TOKEN or ADMIN_USER and ADMIN_PASSWORD',
        },
        404,
      );
    }
    if (!isAdmin(creds, c.req.header('authorization'))) {
      c.header('WWW-Authenticate', 'Basic realm="rpa-bridge admin", charset="UTF-8"');
      return c.json({ error: 'unauthorized', message: 'admin credentials are required' }, 401);
    }
    const origin = c.req.header('origin');
    if (!['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && origin !== undefined) {
      let sameOrigin = false;
      try {
        sameOrigin = new URL(origin).host === c.req.header('host');
      } catch {
        sameOrigin = false;
      }
      if (!sameOrigin) return c.json({ error: 'forbidden', message: 'cross-origin admin actions are refused' }, 403);
    }
    await next();
  };
}
