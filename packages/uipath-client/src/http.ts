import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  kindForNetworkError,
  kindForStatus,
  type Operation,
  OrchestratorError,
  type OrchestratorErrorDetails,
  parseErrorBody,
  parseRetryAfter,
} from './errors.js';
import { type Folder, folderHeaders } from './folders.js';
import type { TokenProvider } from './token.js';

/** The slice of `fetch` the client uses; undici's and the global one both fit. */
export interface FetchResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<FetchResponse>;

export interface CallOptions {
  operation: Operation;
  method: 'GET' | 'POST';
  /** Path under the Orchestrator base, e.g. `/odata/Jobs(5)`. */
  path: string;
  query?: Record<string, string>;
  folder?: Folder;
  body?: unknown;
  /** Cancels the call (e.g. BullMQ's per-job signal); the per-request timeout applies anyway. */
  signal?: AbortSignal;
  /** The Reference (correlationId) the call is about, for the trace. */
  reference?: string;
}

export interface HttpDeps {
  baseUrl: string;
  fetch: FetchLike;
  tokens: TokenProvider;
  now: () => number;
  timeoutMs: number;
  /** Observes every Orchestrator response or failure (metrics). */
  onCall?: (operation: Operation, status: number | 'error', seconds: number) => void;
  /** How a Reference appears in traces (the worker passes its PII redactor). */
  traceReference?: (reference: string) => string;
}

const buildUrl = (base: string, path: string, query?: Record<string, string>) => {
  const qs = query
    ? Object.entries(query)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&')
    : '';
  return `${base.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
};

/**
 * One Orchestrator call: bearer token, folder header, JSON, a timeout, one
 * token refresh and retry on 401, and every failure turned into an
 * OrchestratorError of the right kind. Only GETs count as idempotent.
 */
export function createHttp(deps: HttpDeps) {
  async function send(o: CallOptions, token: string, timeout: AbortSignal): Promise<FetchResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(o.folder ? folderHeaders(o.folder) : {}),
    };
    const init: Parameters<FetchLike>[1] = { method: o.method, headers };
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(o.body);
    }
    init.signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
    return deps.fetch(buildUrl(deps.baseUrl, o.path, o.query), init);
  }

  const tracer = trace.getTracer('rpa-bridge');
  /**
   * Every call is a client span (a no-op unless the process registered a tracer
   * provider): operation, method, path, status and errorCode; never the query,
   * the body or Orchestrator's message, which may echo input.
   */
  return function call<T>(o: CallOptions): Promise<{ status: number; body: T }> {
    const attributes: Attributes = {
      'rpa.orchestrator.operation': o.operation,
      'http.request.method': o.method,
      'url.path': o.path,
    };
    if (o.reference !== undefined)
      attributes['rpa.correlation_id'] = deps.traceReference ? deps.traceReference(o.reference) : o.reference;
    return tracer.startActiveSpan(
      `orchestrator ${o.operation}`,
      { kind: SpanKind.CLIENT, attributes },
      async (span) => {
        try {
          const res = await callOnce<T>(o);
          span.setAttribute('http.response.status_code', res.status);
          return res;
        } catch (err) {
          if (err instanceof OrchestratorError) {
            if (err.status !== undefined) span.setAttribute('http.response.status_code', err.status);
            if (err.errorCode !== undefined) span.setAttribute('rpa.orchestrator.error_code', err.errorCode);
            span.setAttribute('rpa.orchestrator.error_kind', err.kind);
          }
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  };

  async function callOnce<T>(o: CallOptions): Promise<{ status: number; body: T }> {
    const idempotent = o.method === 'GET';
    const started = performance.now();
    const observe = (status: number | 'error') =>
      deps.onCall?.(o.operation, status, (performance.now() - started) / 1000);
    let token = await deps.tokens.get();
    let res: FetchResponse;
    let text: string;
    // One deadline for the whole call, the 401 retry included.
    const timeout = AbortSignal.timeout(deps.timeoutMs);
    try {
      res = await send(o, token, timeout);
      if (res.status === 401) {
        await res.text().catch(() => '');
        deps.tokens.invalidate(token);
        token = await deps.tokens.get();
        res = await send(o, token, timeout);
      }
      text = await res.text();
    } catch (cause) {
      if (cause instanceof OrchestratorError) throw cause; // token refresh failed
      observe('error');
      const timedOut = timeout.aborted;
      throw new OrchestratorError(timedOut ? `no answer within ${deps.timeoutMs} ms` : 'the connection failed', {
        kind: kindForNetworkError(cause, idempotent),
        operation: o.operation,
        cause,
      });
    }
    observe(res.status);
    if (!res.ok) {
      const parsed = parseErrorBody(text);
      const d: OrchestratorErrorDetails = {
        kind: kindForStatus(res.status, idempotent),
        operation: o.operation,
        status: res.status,
      };
      if (parsed.errorCode !== undefined) d.errorCode = parsed.errorCode;
      if (parsed.traceId !== undefined) d.traceId = parsed.traceId;
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), deps.now());
      if (retryAfterMs !== undefined) d.retryAfterMs = retryAfterMs;
      throw new OrchestratorError(parsed.message ?? `HTTP ${res.status}`, d);
    }
    try {
      return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    } catch (cause) {
      throw new OrchestratorError('the response is not JSON', {
        kind: idempotent ? 'retryable' : 'ambiguous',
        operation: o.operation,
        status: res.status,
        cause,
      });
    }
  }
}

export type Http = ReturnType<typeof createHttp>;
