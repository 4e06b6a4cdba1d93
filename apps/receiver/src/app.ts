import type { HttpBindings } from '@hono/node-server';
import {
  type AuditTrail,
  BridgeError,
  createAuditTrail,
  createFieldCipher,
  createRedactor,
  hasSensitiveInputs,
  type ReceiverConfig,
  type Route,
} from '@rpa-bridge/core';
import { type Context, Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createEnqueuer, type Enqueuer } from './enqueue.js';
import { errorResponse } from './http-errors.js';
import { createReceiverMetrics, type ReceiverMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { registerAdminRoutes } from './routes/admin.js';
import { methodNotAllowed, registerEventRoutes } from './routes/events.js';
import { registerOperatorPage } from './routes/operator-page.js';

export interface ReceiverDeps {
  config: Pick<
    ReceiverConfig,
    | 'redis'
    | 'auth'
    | 'admin'
    | 'maxBodyBytes'
    | 'maxBacklog'
    | 'dedupeTtlMs'
    | 'auditTtlMs'
    | 'enqueueTimeoutMs'
    | 'jobAttempts'
    | 'piiFields'
    | 'encryptionKeys'
  >;
  routes: readonly Route[];
  /** A fail-fast producer connection (`enableOfflineQueue: false`, `maxRetriesPerRequest: 1`). */
  redis: Redis;
  logger: Logger;
  now?: () => Date;
  registry?: Registry;
  /** The TCP peer; defaults to the Node server's socket address. */
  peerAddress?: (c: Context) => string | undefined;
  /** Trace requests and propagate the trace through the job to the worker (a tracer provider is registered). */
  tracing?: boolean;
}

export interface Receiver {
  app: Hono;
  /** Applies rotated secrets (API keys, HMAC secrets, admin credentials, encryption keys) without a restart. */
  updateSecrets(config: Pick<ReceiverConfig, 'auth' | 'admin' | 'encryptionKeys'>): void;
  enqueuer: Enqueuer;
  audit: AuditTrail;
  metrics: ReceiverMetrics;
  close(): Promise<void>;
}

const nodePeer = (c: Context): string | undefined =>
  (c.env as HttpBindings | undefined)?.incoming?.socket?.remoteAddress;

/** Builds the receiver's Hono app; never listens (main.ts does). */
export function createReceiverApp(deps: ReceiverDeps): Receiver {
  const { config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  if (hasSensitiveInputs(deps.routes) && config.encryptionKeys.length === 0) {
    throw new BridgeError('config_invalid', 'a route marks inputs sensitive: ENCRYPTION_KEY is required');
  }
  const redactor = createRedactor(config.piiFields);
  const audit = createAuditTrail({
    redis: deps.redis,
    prefix: config.redis.prefix,
    ttlMs: config.auditTtlMs,
    redactor,
    now,
  });
  const enqueuer = createEnqueuer({
    redis: deps.redis,
    prefix: config.redis.prefix,
    routes: deps.routes,
    audit,
    auditTtlMs: config.auditTtlMs,
    dedupeTtlMs: config.dedupeTtlMs,
    attempts: config.jobAttempts,
    timeoutMs: config.enqueueTimeoutMs,
    maxBacklog: config.maxBacklog,
    tracing: deps.tracing ?? false,
    // The shared connection's own error handler (main.ts) reports outages; this only adds detail.
    onError: (err) => logger.debug({ err: { message: redactor.text(err.message) } }, 'queue error'),
  });
  const metrics = createReceiverMetrics(() => enqueuer.queues.values(), deps.registry);
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      const pong = await Promise.race([
        deps.redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
      ]);
      if (pong !== 'PONG') throw new Error('unexpected reply');
      return c.json({ status: 'ready', routes: deps.routes.length });
    } catch {
      c.header('Retry-After', '2');
      return c.json({ error: 'unavailable', message: 'Redis is unreachable' }, 503);
    }
  });
  const openapi = buildOpenApiDocument();
  app.get('/openapi.json', (c) => c.json(openapi));
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  let admin = config.admin;
  const setEventSecrets = registerEventRoutes(app, {
    auth: config.auth,
    maxBodyBytes: config.maxBodyBytes,
    maxBacklog: config.maxBacklog,
    routes: deps.routes,
    enqueuer,
    audit,
    cipher: config.encryptionKeys.length > 0 ? createFieldCipher(config.encryptionKeys) : undefined,
    redactor,
    metrics,
    logger,
    now,
    peerAddress: deps.peerAddress ?? nodePeer,
    tracing: deps.tracing ?? false,
  });
  registerAdminRoutes(app, {
    admin: () => admin,
    queues: enqueuer.queues.values(),
    queuesByRoute: enqueuer.queues,
    audit,
    redactor,
  });

  registerOperatorPage(app, { routes: deps.routes, queuesByRoute: enqueuer.queues, audit });

  app.notFound((c) => methodNotAllowed(c) ?? c.json({ error: 'not_found', message: 'no such endpoint' }, 404));
  app.onError((err, c) => {
    if (err instanceof BridgeError) return errorResponse(c, err);
    logger.error({ err: { type: err.name, message: redactor.text(err.message) } }, 'unhandled error');
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });

  const updateSecrets: Receiver['updateSecrets'] = (next) => {
    if (hasSensitiveInputs(deps.routes) && next.encryptionKeys.length === 0) {
      throw new BridgeError('config_invalid', 'rotation left no ENCRYPTION_KEY while a route has sensitive inputs');
    }
    setEventSecrets({
      apiKeys: next.auth.apiKeys,
      hmacSecrets: next.auth.hmacSecrets,
      cipher: next.encryptionKeys.length > 0 ? createFieldCipher(next.encryptionKeys) : undefined,
    });
    admin = next.admin;
  };

  return { app, enqueuer, audit, metrics, updateSecrets, close: () => enqueuer.close() };
}
