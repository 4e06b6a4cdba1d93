import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Span } from '@opentelemetry/api';
import {
  type AuditTrail,
  BridgeError,
  type Cidr,
  CORRELATION_ID_ATTRIBUTE,
  createApiKeyVerifier,
  createSignatureVerifier,
  type FieldCipher,
  findRoute,
  hasSignatureHeader,
  type InteractionEvent,
  inSpan,
  isAllowed,
  mapInputs,
  normaliseEvent,
  type Redactor,
  type Route,
  SpanKind,
} from '@rpa-bridge/core';
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { Enqueuer } from '../enqueue.js';
import { errorResponse, statusOf } from '../http-errors.js';
import type { ReceiverMetrics } from '../metrics.js';
import { isJsonContentType, parseJson, readRequestBody } from '../middleware/read-body.js';

export interface EventsRouteDeps {
  auth: {
    apiKeys: readonly string[];
    hmacSecrets: readonly string[];
    allowedIps: readonly Cidr[];
    trustedProxies: readonly Cidr[];
    maxEventAgeMs: number | undefined;
  };
  maxBodyBytes: number;
  maxBacklog: number;
  routes: readonly Route[];
  enqueuer: Enqueuer;
  audit: AuditTrail;
  cipher: FieldCipher | undefined;
  redactor: Redactor;
  metrics: ReceiverMetrics;
  logger: Logger;
  now: () => Date;
  peerAddress: (c: Context) => string | undefined;
  /** Each request in a server span (OpenTelemetry), its correlationId an attribute. */
  tracing: boolean;
}

interface Outcome {
  status: number;
  outcome: string;
  event?: InteractionEvent;
  route?: Route;
}

/**
 * Reads request headers from Node's own parsed object when there is one (a
 * property read each; the fetch Headers view validates and normalises the name
 * on every call), else from the fetch Request. Node joins repeated headers
 * with ", " as Headers.get does, except the few it keeps only the first of.
 */
function headerReader(c: Context, incoming: IncomingMessage | undefined): (name: string) => string | undefined {
  if (!incoming?.headers) return (name) => c.req.header(name);
  const headers = incoming.headers;
  return (name) => {
    const value = headers[name];
    return typeof value === 'string' ? value : value?.join(', ');
  };
}

const fail = (code: ConstructorParameters<typeof BridgeError>[0], message: string) => new BridgeError(code, message);

export interface RotatingSecrets {
  apiKeys: readonly string[];
  hmacSecrets: readonly string[];
  cipher: FieldCipher | undefined;
}

/** Registers the webhook routes; the returned function swaps in rotated secrets without a restart. */
export function registerEventRoutes(app: Hono, deps: EventsRouteDeps): (secrets: RotatingSecrets) => void {
  const { auth, enqueuer, audit, redactor, metrics, logger } = deps;
  let verifyKey: ReturnType<typeof createApiKeyVerifier> | undefined;
  let verifySignature: ReturnType<typeof createSignatureVerifier> | undefined;
  let cipher = deps.cipher;
  const setSecrets = (s: RotatingSecrets) => {
    verifyKey = s.apiKeys.length > 0 ? createApiKeyVerifier(s.apiKeys) : undefined;
    verifySignature = s.hmacSecrets.length > 0 ? createSignatureVerifier(s.hmacSecrets) : undefined;
    cipher = s.cipher;
  };
  setSecrets({ apiKeys: auth.apiKeys, hmacSecrets: auth.hmacSecrets, cipher: deps.cipher });

  // Receipt times are formatted once per millisecond: under load most requests share one (V8
  // formats an ISO date with its printf-style formatter, ~0.5 µs).
  let lastMs = Number.NaN;
  let lastIso = '';
  const receivedAt = (): string => {
    const t = deps.now();
    const ms = t.getTime();
    if (ms !== lastMs) {
      lastIso = t.toISOString();
      lastMs = ms;
    }
    return lastIso;
  };

  /** Every check in SPEC §2.2 order; cheap header checks before the body is read. */
  async function ingest(c: Context, state: Outcome): Promise<Response> {
    const incoming = (c.env as HttpBindings | undefined)?.incoming;
    const h = headerReader(c, incoming);
    if (!isAllowed(deps.peerAddress(c), h('x-forwarded-for'), auth.allowedIps, auth.trustedProxies)) {
      throw fail('forbidden', 'the source address is not allowed');
    }
    if (verifyKey && !verifyKey({ apiKey: h('x-api-key'), authorization: h('authorization') })) {
      throw fail('unauthorized', 'a valid API key is required');
    }
    const signatures = { genesys: h('x-genesys-signature'), hub: h('x-hub-signature-256') };
    if (verifySignature && !hasSignatureHeader(signatures)) {
      throw fail('unauthorized', 'a signature header is required');
    }
    if (!isJsonContentType(h('content-type'))) {
      throw fail('unsupported_media_type', 'the body must be application/json');
    }
    const bytes = await readRequestBody(incoming, c.req.raw, deps.maxBodyBytes);
    if (verifySignature && !verifySignature(bytes, signatures)) {
      throw fail('unauthorized', 'the signature does not match the body');
    }
    const event = normaliseEvent(parseJson(bytes), h('x-correlation-id'));
    state.event = event;
    if (auth.maxEventAgeMs !== undefined) {
      const skew = Math.abs(deps.now().getTime() - Date.parse(event.timestamp));
      if (skew > auth.maxEventAgeMs) throw fail('unauthorized', 'the event timestamp is outside the replay window');
    }
    const route = findRoute(deps.routes, event);
    if (!route) throw fail('no_route', 'no configured route matches this event');
    state.route = route;
    const inputs = mapInputs(route, event);
    const sealed: Record<string, string> = {};
    for (const name in inputs.sensitive) {
      if (!cipher) throw new Error('a route marks inputs sensitive but no ENCRYPTION_KEY is loaded');
      sealed[name] = cipher.encrypt(inputs.sensitive[name] as string);
    }
    const cached = enqueuer.backlog(route); // a number while cached: no await, no extra microtask
    if ((typeof cached === 'number' ? cached : await cached) > deps.maxBacklog) {
      // A redelivery of something already queued is still a duplicate, not an overload.
      if (await enqueuer.exists(route, event.correlationId)) return done(c, state, 'duplicate');
      throw fail('overloaded', 'too many events are waiting; retry later');
    }
    const started = performance.now();
    const outcome = await enqueuer.enqueue(route, {
      route: route.name,
      correlationId: event.correlationId,
      eventType: event.eventType,
      eventTimestamp: event.timestamp,
      receivedAt: receivedAt(),
      inputs: inputs.plain,
      sealed,
    });
    metrics.recordEnqueue(outcome, (performance.now() - started) / 1000);
    return done(c, state, outcome);
  }

  function done(c: Context, state: Outcome, outcome: 'accepted' | 'duplicate'): Response {
    const correlationId = (state.event as InteractionEvent).correlationId;
    state.status = outcome === 'accepted' ? 202 : 200;
    state.outcome = outcome;
    return c.json({ status: outcome, correlationId }, state.status as 200 | 202);
  }

  function handler(c: Context): Promise<Response> {
    if (!deps.tracing) return handle(c);
    const attributes = { 'http.request.method': 'POST', 'url.path': c.req.path };
    return inSpan(`POST ${c.req.path}`, SpanKind.SERVER, attributes, (span) => handle(c, span));
  }

  async function handle(c: Context, span?: Span): Promise<Response> {
    const started = performance.now();
    const state: Outcome = { status: 500, outcome: 'internal' };
    try {
      return await ingest(c, state);
    } catch (err) {
      if (!(err instanceof BridgeError)) {
        logger.error(
          { err: { type: (err as Error)?.name, message: redactor.text(String((err as Error)?.message)) } },
          'unexpected ingest failure',
        );
        state.status = 500;
        return c.json({ error: 'internal', message: 'internal error' }, 500);
      }
      state.status = statusOf(err);
      state.outcome = err.code;
      const correlationId = state.event?.correlationId;
      if (correlationId !== undefined && err.code !== 'unavailable') {
        audit
          .record(
            correlationId,
            { type: 'received', route: state.route?.name },
            { type: 'rejected', reason: err.code, route: state.route?.name },
          )
          .catch((e: Error) => logger.warn({ err: { message: e.message } }, 'audit write failed'));
      }
      return errorResponse(c, err, correlationId);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const route = state.route?.name ?? '';
      metrics.recordRequest(state.status, state.outcome, route, seconds);
      span?.setAttributes({
        'http.response.status_code': state.status,
        'rpa.outcome': state.outcome,
        ...(route ? { 'rpa.route': route } : {}),
        ...(state.event ? { [CORRELATION_ID_ATTRIBUTE]: redactor.text(state.event.correlationId) } : {}),
      });
      if (logger.isLevelEnabled('info'))
        logger.info(
          {
            method: c.req.method,
            path: c.req.path,
            status: state.status,
            outcome: state.outcome,
            latencyMs: Math.round(seconds * 10_000) / 10,
            correlationId: state.event ? redactor.text(state.event.correlationId) : undefined,
            route: route || undefined,
            eventType: state.event?.eventType,
          },
          'webhook',
        );
    }
  }

  // One handler per path and method: Hono then calls it directly, without composing a middleware chain.
  // Other methods on these paths fall through to methodNotAllowed (app.ts's notFound).
  for (const path of WEBHOOK_PATHS) app.post(path, handler);
  return setSecrets;
}

export const WEBHOOK_PATHS: readonly string[] = ['/v1/events', '/webhooks/genesys'];

/** The answer for a webhook path asked with another method than POST; undefined for any other path. */
export function methodNotAllowed(c: Context): Response | undefined {
  if (!WEBHOOK_PATHS.includes(c.req.path)) return undefined;
  c.header('Allow', 'POST');
  return c.json({ error: 'method_not_allowed', message: 'use POST' }, 405);
}
