import { serve } from '@hono/node-server';
import {
  BridgeError,
  createLogger,
  loadReceiverConfig,
  loadRoutesFile,
  loadStartupSecrets,
  readTracingConfig,
  type StartupSecrets,
  startTracing,
  watchSecretRotations,
} from '@rpa-bridge/core';
import { createReceiverApp } from './app.js';
import { tuneHeap } from './heap-tuning.js';
import { adminEnabled } from './middleware/admin-auth.js';
import { createProducerRedis } from './redis.js';

tuneHeap();

function fatal(err: unknown): never {
  const message = err instanceof BridgeError ? err.message : String((err as Error)?.stack ?? err);
  process.stderr.write(`rpa-bridge receiver: cannot start\n${message}\n`);
  process.exit(1);
}

let config: ReturnType<typeof loadReceiverConfig>;
let routes: ReturnType<typeof loadRoutesFile>;
let secrets: StartupSecrets;
try {
  secrets = await loadStartupSecrets(process.env);
  config = loadReceiverConfig({ ...process.env, ...secrets.values });
  routes = loadRoutesFile(config.routesFile);
} catch (err) {
  fatal(err);
}

const logger = createLogger({ level: config.logLevel, name: 'receiver' });
// Before anything that creates spans, so the context manager is in place.
const tracing = await startTracing(readTracingConfig(process.env, 'rpa-bridge-receiver'));
if (tracing.enabled) logger.info('OpenTelemetry tracing on (OTLP/HTTP)');
const redis = createProducerRedis(config.redis.url);
// One warning per outage, not one per reconnect attempt.
let redisDown = false;
redis.on('error', (err: NodeJS.ErrnoException) => {
  if (redisDown) return;
  redisDown = true;
  logger.warn(
    { err: { code: err.code, message: err.message } },
    'redis unreachable: webhooks get 503 until it is back',
  );
});
redis.on('ready', () => {
  if (redisDown) logger.info('redis reachable again');
  redisDown = false;
});

let receiver: ReturnType<typeof createReceiverApp>;
try {
  receiver = createReceiverApp({ config, routes, redis, logger, tracing: tracing.enabled });
} catch (err) {
  fatal(err);
}

if (config.auth.insecureNoAuth && config.auth.apiKeys.length === 0 && config.auth.hmacSecrets.length === 0) {
  logger.warn('INSECURE_NO_AUTH=true: webhooks are accepted WITHOUT authentication; never run this in production');
}
if (!adminEnabled(config.admin)) logger.info('admin endpoints disabled (no ADMIN_TOKEN or ADMIN_USER/ADMIN_PASSWORD)');

const stopWatching = watchSecretRotations(secrets, logger, (values) =>
  receiver.updateSecrets(loadReceiverConfig({ ...process.env, ...values })),
);

const server = serve({ fetch: receiver.app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ port: info.port, host: config.host, routes: routes.map((r) => r.name) }, 'receiver listening');
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const hardExit = setTimeout(() => process.exit(1), 10_000);
  hardExit.unref();
  stopWatching();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await receiver.close();
  await redis.quit().catch(() => redis.disconnect());
  await tracing.shutdown().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
