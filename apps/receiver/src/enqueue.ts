import { randomUUID } from 'node:crypto';
import {
  AUDIT_MAX_ENTRIES,
  type AuditTrail,
  auditKey,
  BridgeError,
  defaultJobOptions,
  queueNameFor,
  type Route,
  START_JOB,
  type StartJobData,
  startJobSchema,
  toJobId,
} from '@rpa-bridge/core';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export type EnqueueOutcome = 'accepted' | 'duplicate';

/**
 * Decides 202 vs 200 from what Redis stored, atomically with the audit write:
 * the job hash holds the receipt of the request that created it.
 * KEYS: job hash, audit list. ARGV: receipt, received, enqueued, duplicate, ttl ms, max entries.
 */
const CONFIRM_LUA = `
local data = redis.call('HGET', KEYS[1], 'data')
local fresh = data and string.find(data, ARGV[1], 1, true) ~= nil
redis.call('RPUSH', KEYS[2], ARGV[2], fresh and ARGV[3] or ARGV[4])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
if fresh then return 1 end
return 0
`;

type ConfirmingRedis = Redis & {
  rpaConfirmEnqueue(k1: string, k2: string, ...argv: (string | number)[]): Promise<number>;
};

export interface Enqueuer {
  queues: ReadonlyMap<string, Queue>;
  /** Jobs of this route that no worker has taken yet (waiting + prioritized). */
  backlog(route: Route): Promise<number>;
  /** Whether a job for this correlationId exists in the route's queue. */
  exists(route: Route, correlationId: string): Promise<boolean>;
  enqueue(route: Route, data: Omit<StartJobData, 'receipt' | 'v'>): Promise<EnqueueOutcome>;
  close(): Promise<void>;
}

export interface EnqueuerOptions {
  /** A fail-fast connection: `enableOfflineQueue: false`, small `maxRetriesPerRequest`. */
  redis: Redis;
  prefix: string;
  routes: readonly Route[];
  audit: AuditTrail;
  auditTtlMs: number;
  dedupeTtlMs: number;
  attempts: number;
  /** Longest wait for Redis before giving up with `unavailable`. */
  timeoutMs: number;
  onError: (err: Error) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BridgeError('unavailable', `Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for a connection attempt already in flight (start-up, reconnect);
 * fails at once while Redis is known to be down, so senders get a fast 503.
 */
function whenReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  if (redis.status !== 'connecting' && redis.status !== 'connect' && redis.status !== 'wait') {
    return Promise.reject(new BridgeError('unavailable', 'the queue store is unreachable'));
  }
  return withTimeout(new Promise<void>((resolve) => redis.once('ready', () => resolve())), ms);
}

const unavailable = (cause: unknown) =>
  cause instanceof BridgeError ? cause : new BridgeError('unavailable', 'the queue store is unreachable', { cause });

export function createEnqueuer(opts: EnqueuerOptions): Enqueuer {
  const redis = opts.redis as ConfirmingRedis;
  if (typeof redis.rpaConfirmEnqueue !== 'function') {
    redis.defineCommand('rpaConfirmEnqueue', { numberOfKeys: 2, lua: CONFIRM_LUA });
  }
  const jobOptions = defaultJobOptions({ dedupeTtlMs: opts.dedupeTtlMs, attempts: opts.attempts });
  const queues = new Map<string, Queue>();
  for (const route of opts.routes) {
    const q = new Queue(queueNameFor(route), {
      connection: redis,
      prefix: opts.prefix,
      defaultJobOptions: jobOptions,
    });
    q.on('error', opts.onError);
    queues.set(route.name, q);
  }
  const queueOf = (route: Route) => queues.get(route.name) as Queue;
  const key = (route: Route, suffix: string) => `${opts.prefix}:${queueNameFor(route)}:${suffix}`;

  return {
    queues,
    async backlog(route) {
      try {
        await whenReady(redis, opts.timeoutMs);
        const res = await withTimeout(
          redis.multi().llen(key(route, 'wait')).zcard(key(route, 'prioritized')).exec(),
          opts.timeoutMs,
        );
        if (!res) throw new Error('transaction aborted');
        return res.reduce((n, [err, v]) => {
          if (err) throw err;
          return n + Number(v);
        }, 0);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async exists(route, correlationId) {
      try {
        await whenReady(redis, opts.timeoutMs);
        return (await withTimeout(redis.exists(key(route, toJobId(correlationId))), opts.timeoutMs)) === 1;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async enqueue(route, fields) {
      const data: StartJobData = startJobSchema.parse({ v: 1, ...fields, receipt: randomUUID() });
      const jobId = toJobId(data.correlationId);
      const entries = [
        opts.audit.serialise({ type: 'received', route: route.name }),
        opts.audit.serialise({ type: 'enqueued', route: route.name }),
        opts.audit.serialise({ type: 'duplicate', route: route.name }),
      ];
      try {
        await whenReady(redis, opts.timeoutMs);
        return await withTimeout(
          (async () => {
            await queueOf(route).add(START_JOB, data, { jobId });
            const fresh = await redis.rpaConfirmEnqueue(
              key(route, jobId),
              auditKey(opts.prefix, data.correlationId),
              data.receipt,
              ...entries,
              opts.auditTtlMs,
              AUDIT_MAX_ENTRIES,
            );
            return fresh === 1 ? 'accepted' : 'duplicate';
          })(),
          opts.timeoutMs,
        );
      } catch (err) {
        throw unavailable(err);
      }
    },
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
    },
  };
}
