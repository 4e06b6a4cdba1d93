import { Writable } from 'node:stream';
import { createAuditTrail, createFieldCipher, createLogger, createRedactor, type Route } from '@rpa-bridge/core';
import { createOrchestratorClient } from '@rpa-bridge/uipath-client';
import { Redis } from 'ioredis';
import { createWorkerMetrics, type WorkerMetrics } from '../../apps/worker/src/metrics.js';
import { createWorkers, type RunningWorkers } from '../../apps/worker/src/worker.js';
import { ENCRYPTION_KEY } from './receiver.js';
import { SIM_CLIENT } from './simulator.js';

export interface TestWorker {
  running: RunningWorkers;
  metrics: WorkerMetrics;
  logs: string[];
  close(): Promise<void>;
}

/** Real BullMQ workers in this process, talking to the simulator over HTTP. */
export async function startTestWorker(o: {
  redisUrl: string;
  prefix: string;
  routes: Route[];
  simUrl: string;
  backoff?: { baseMs: number; maxMs: number };
  orchestratorTimeoutMs?: number;
  ambiguousSettleMs?: number;
  trackCompletion?: boolean;
  tracing?: boolean;
}): Promise<TestWorker> {
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    name: 'worker',
    destination: new Writable({
      write(chunk, _e, cb) {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    }),
  });
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const redactor = createRedactor();
  const cipher = createFieldCipher([Buffer.from(ENCRYPTION_KEY, 'base64')]);
  let running: RunningWorkers | undefined;
  const metrics = createWorkerMetrics(() => running?.queues.values() ?? []);
  const client = createOrchestratorClient({
    baseUrl: o.simUrl,
    tokenUrl: `${o.simUrl}/identity_/connect/token`,
    ...SIM_CLIENT,
    timeoutMs: o.orchestratorTimeoutMs ?? 2000,
    collectionQueriesPerMinute: 6000,
    redis,
    pacingKey: `${o.prefix}:_pacing:collection`,
    traceReference: (reference) => redactor.text(reference),
  });
  const audit = createAuditTrail({ redis, prefix: o.prefix, ttlMs: 3_600_000, redactor });
  running = await createWorkers({
    redis,
    tracing: o.tracing ?? false,
    prefix: o.prefix,
    routes: o.routes,
    concurrency: 20,
    lockMs: 2000,
    maxStalledCount: 5,
    maxStartedAttempts: 50,
    backoff: o.backoff ?? { baseMs: 50, maxMs: 400 },
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
      slaSeconds: 30,
      ambiguousSettleMs: o.ambiguousSettleMs ?? 100,
      trackCompletion: o.trackCompletion ?? false,
      completionPoll: { minMs: 20, maxMs: 200 },
    },
  });
  const r = running;
  return {
    running: r,
    metrics,
    logs,
    async close() {
      await r.close(5000);
      await client.close();
      redis.disconnect();
    },
  };
}

/** Waits on a condition (never a fixed sleep). */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  ms = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
