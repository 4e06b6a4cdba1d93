import { kindForNetworkError, kindForStatus, OrchestratorError, parseErrorBody, parseRetryAfter } from './errors.js';
import type { FetchLike, FetchResponse } from './http.js';

export interface TokenOptions {
  tokenUrl: string;
  clientId: string;
  /** A function when the secret can rotate (read at every token request). */
  clientSecret: string | (() => string);
  /** Space-separated in the request. */
  scopes: readonly string[];
  fetch: FetchLike;
  now: () => number;
  timeoutMs: number;
  /** Called after each successful token request (metrics). */
  onRefresh?: () => void;
}

export interface TokenProvider {
  /** A valid access token; refreshes when within the skew of expiry, one refresh at a time. */
  get(): Promise<string>;
  /** Drops `token` if it is still the current one (after a 401), so the next get() refreshes once. */
  invalidate(token: string): void;
}

interface Cached {
  token: string;
  refreshAt: number;
}

/**
 * OAuth2 client credentials. The token lives in memory only; a refresh starts
 * `skew` before expiry (10 % of the lifetime, at most 60 s), and concurrent
 * callers share one in-flight request (single flight).
 */
export function createTokenProvider(o: TokenOptions): TokenProvider {
  let cached: Cached | undefined;
  let inflight: Promise<string> | undefined;

  async function request(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: o.clientId,
      client_secret: typeof o.clientSecret === 'function' ? o.clientSecret() : o.clientSecret,
    });
    if (o.scopes.length > 0) body.set('scope', o.scopes.join(' '));
    let res: FetchResponse;
    try {
      res = await o.fetch(o.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (cause) {
      throw new OrchestratorError('the identity server is unreachable', {
        kind: kindForNetworkError(cause, true),
        operation: 'token',
        cause,
      });
    }
    const text = await res.text();
    if (!res.ok) {
      const parsed = parseErrorBody(text);
      const d: ConstructorParameters<typeof OrchestratorError>[1] = {
        kind: kindForStatus(res.status, true),
        operation: 'token',
        status: res.status,
      };
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), o.now());
      if (retryAfterMs !== undefined) d.retryAfterMs = retryAfterMs;
      // A rejected client id/secret or scope will not fix itself by retrying.
      if (res.status === 400 || res.status === 401) d.kind = 'permanent';
      throw new OrchestratorError(parsed.message ?? 'token request failed', d);
    }
    const json = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== 'string' || json.access_token === '') {
      throw new OrchestratorError('the token response has no access_token', { kind: 'retryable', operation: 'token' });
    }
    const lifetimeMs = (typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600) * 1000;
    const skew = Math.min(60_000, lifetimeMs / 10);
    cached = { token: json.access_token, refreshAt: o.now() + lifetimeMs - skew };
    o.onRefresh?.();
    return json.access_token;
  }

  return {
    get() {
      if (cached && o.now() < cached.refreshAt) return Promise.resolve(cached.token);
      inflight ??= request().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}
