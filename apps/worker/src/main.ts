import { serve } from '@hono/node-server';
import {
  BridgeError,
  createAuditTrail,
  createFieldCipher,
  createLogger,
  createRedactor,
  hasSensitiveInputs,
  loadRoutesFile,
  loadStartupSecrets,
  loadWorkerConfig,
  readTracingConfig,
  type StartupSecrets,
  startTracing,
  watchSecretRotations,
} from '@rpa-bridge/core';
import { createOrchestratorClient, createRedisPacer } from '@rpa-bridge/uipath-client';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { createWorkerMetrics } from './metrics.js';
import { createWorkers, type RunningWorkers } from './worker.js';

function fatal(err: unknown): never {
  process.stderr.write(
    `rpa-bridge worker: cannot start\n${err instanceof BridgeError ? err.message : String((err as Error)?.stack ?? err)}\n`,
  );
  process.exit(1);
}

let config: ReturnType<typeof loadWorkerConfig>;
let routes: ReturnType<typeof loadRoutesFile>;
let secrets: StartupSecrets;
try {
  secrets = await loadStartupSecrets(process.env);
  config = loadWorkerConfig({ ...process.env, ...secrets.values });
  routes = loadRoutesFile(config.routesFile);
  if (hasSensitiveInputs(routes) && config.encryptionKeys.length === 0) {
    throw new BridgeError(
      'config_invalid',
      'a route marks inputs sensitive: ENCRYPTION_KEY is required to decrypt them',
    );
  }
} catch (err) {
  fatal(err);
}

const logger = createLogger({ level: config.logLevel, name: 'worker' });
// Before anything that creates spans, so the context manager is in place.
const tracing = await startTracing(readTracingConfig(process.env, 'rpa-bridge-worker'));
if (tracing.enabled) logger.info('OpenTelemetry tracing on (OTLP/HTTP)');
if (config.orchestrator.simulator) {
  logger.warn(
    { baseUrl: config.orchestrator.baseUrl },
    '!!! UIPATH_BASE_URL is not set: starting robots on the LOCAL ORCHESTRATOR SIMULATOR, not on a UiPath tenant !!!',
  );
}
const redactor = createRedactor(config.piiFields);
const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null });
let redisDown = false;
redis.on('error', (err: NodeJS.ErrnoException) => {
  if (!redisDown)
    logger.warn({ err: { code: err.code, message: err.message } }, 'redis unreachable; workers resume when it is back');
  redisDown = true;
});
redis.on('ready', () => {
  redisDown = false;
});

let running: RunningWorkers | undefined;
const metrics = createWorkerMetrics(() => running?.queues.values() ?? []);
const client = createOrchestratorClient({
  baseUrl: config.orchestrator.baseUrl,
  tokenUrl: config.orchestrator.tokenUrl,
  clientId: config.orchestrator.clientId,
  clientSecret: () => clientSecret,
  scopes: config.orchestrator.scopes,
  timeoutMs: config.orchestrator.timeoutMs,
  collectionQueriesPerMinute: config.orchestrator.collectionQueriesPerMinute,
  redis,
  pacingKey: `${config.redis.prefix}:_pacing:collection`,
  onCall: (operation, status, seconds) =>
    metrics.orchestratorSeconds.observe({ operation, status: String(status) }, seconds),
  onTokenRefresh: () => metrics.tokenRefreshes.inc(),
  traceReference: (reference) => redactor.text(reference),
});
let clientSecret = config.orchestrator.clientSecret;
let cipher = config.encryptionKeys.length > 0 ? createFieldCipher(config.encryptionKeys) : undefined;
const stopWatching = watchSecretRotations(secrets, logger, (values) => {
  const next = loadWorkerConfig({ ...process.env, ...values });
  clientSecret = next.orchestrator.clientSecret;
  if (next.encryptionKeys.length > 0) cipher = createFieldCipher(next.encryptionKeys);
});

const audit = createAuditTrail({ redis, prefix: config.redis.prefix, ttlMs: config.auditTtlMs, redactor });

try {
  const startPacer = config.orchestrator.startsPerSecond
    ? createRedisPacer(redis, `${config.redis.prefix}:_pacing:starts`, {
        perMinute: config.orchestrator.startsPerSecond * 60,
        burst: Math.max(1, Math.ceil(config.orchestrator.startsPerSecond)),
      })
    : undefined;
  running = await createWorkers({
    redis,
    tracing: tracing.enabled,
    prefix: config.redis.prefix,
    routes,
    concurrency: config.concurrency,
    lockMs: config.lockMs,
    maxStalledCount: config.maxStalledCount,
    maxStartedAttempts: config.maxStartedAttempts,
    backoff: { baseMs: config.backoffBaseMs, maxMs: config.backoffMaxMs },
    audit,
    redactor,
    metrics,
    logger,
    process: {
      client,
      cipher: () => cipher,
      audit,
      redactor,
      metrics,
      logger,
      now: Date.now,
      slaSeconds: config.slaSeconds,
      ambiguousSettleMs: config.ambiguousSettleMs,
      trackCompletion: config.trackCompletion,
      completionPoll: { minMs: 1000, maxMs: 30_000 },
      ...(startPacer ? { startPacer } : {}),
    },
  });
} catch (err) {
  fatal(err);
}

const ops = new Hono();
ops.get('/healthz', (c) => c.json({ status: 'ok' }));
ops.get('/readyz', async (c) => {
  const ok = await redis.ping().then(
    (p) => p === 'PONG',
    () => false,
  );
  return ok ? c.json({ status: 'ready' }) : c.json({ error: 'unavailable', message: 'Redis is unreachable' }, 503);
});
ops.get('/metrics', async (c) => {
  c.header('Content-Type', metrics.registry.contentType);
  return c.body(await metrics.registry.metrics());
});
const opsServer = serve({ fetch: ops.fetch, port: config.metricsPort, hostname: '0.0.0.0' }, (info) => {
  logger.info(
    {
      metricsPort: info.port,
      routes: routes.map((r) => `${r.name}(${r.concurrency})`),
      concurrency: config.concurrency,
      trackCompletion: config.trackCompletion,
    },
    'worker running',
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(
    { signal, deadlineMs: config.shutdownTimeoutMs },
    'stopping: no new jobs; finishing or releasing in-flight ones',
  );
  stopWatching();
  const result = await running?.close(config.shutdownTimeoutMs);
  if (result === 'deadline')
    logger.warn('drain deadline passed; unfinished jobs are released to other workers by lock expiry');
  await client.close().catch(() => {});
  opsServer.close();
  await redis.quit().catch(() => redis.disconnect());
  await tracing.shutdown().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
