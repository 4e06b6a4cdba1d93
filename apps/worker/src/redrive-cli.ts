import { parseArgs } from 'node:util';
import {
  type BridgeError,
  createAuditTrail,
  createRedactor,
  EnvReader,
  loadRoutesFile,
  queueNameFor,
  readRedisConfig,
  redriveDeadLetters,
} from '@rpa-bridge/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const USAGE = `usage: pnpm redrive [--correlation-id ID] [--route NAME] [--reason TEXT] [--all] [--dry-run]
Sends dead letters back to work with a fresh attempt budget (same job id: no duplicate robot job).
At least one filter, or --all, is required. Reads REDIS_URL, QUEUE_PREFIX and ROUTES_FILE.`;

const { values } = parseArgs({
  options: {
    'correlation-id': { type: 'string' },
    route: { type: 'string' },
    reason: { type: 'string' },
    all: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const filter: { correlationId?: string; route?: string; reason?: string } = {};
if (values['correlation-id']) filter.correlationId = values['correlation-id'];
if (values.route) filter.route = values.route;
if (values.reason) filter.reason = values.reason;
if (Object.keys(filter).length === 0 && !values.all) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const env = new EnvReader(process.env);
const redisConfig = readRedisConfig(env);
const routesFile = env.string('ROUTES_FILE');
env.require(routesFile !== undefined, 'ROUTES_FILE', 'is required');
const auditTtlMs = env.duration('AUDIT_TTL', 's', 7 * 86_400_000);
try {
  env.done();
} catch (err) {
  process.stderr.write(`${(err as BridgeError).message}\n`);
  process.exit(2);
}
const routes = loadRoutesFile(routesFile as string);
const redis = new Redis(redisConfig.url, { maxRetriesPerRequest: 3 });
const queues = new Map(
  routes.map((r) => [r.name, new Queue(queueNameFor(r), { connection: redis, prefix: redisConfig.prefix })]),
);
const audit = createAuditTrail({ redis, prefix: redisConfig.prefix, ttlMs: auditTtlMs, redactor: createRedactor() });
try {
  const result = await redriveDeadLetters({ queues, audit, filter, dryRun: values['dry-run'] });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
  redis.disconnect();
}
