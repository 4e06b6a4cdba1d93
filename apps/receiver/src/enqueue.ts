import { randomUUID } from 'node:crypto';
import { type Context, context } from '@opentelemetry/api';
import {
  AUDIT_MAX_ENTRIES,
  type AuditTrail,
  auditKeyForJobId,
  BridgeError,
  defaultJobOptions,
  queueNameFor,
  type Route,
  START_JOB,
  type StartJobData,
  TRACER_NAME,
  toJobId,
} from '@rpa-bridge/core';
import { Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { Redis } from 'ioredis';

export type EnqueueOutcome = 'accepted' | 'duplicate';

const BACKLOG_REFRESH_MS = 100;
/** Above this share of MAX_BACKLOG every request reads the backlog from Redis. */
const BACKLOG_EXACT_ABOVE = 0.5;

/**
 * Decides 202 vs 200 from what Redis stored, atomically with the audit write,
 * for a whole batch of adds: each job hash holds the receipt of the request
 * that created it. KEYS: job hash, audit list (per item).
 * ARGV: n, ttl ms, max entries, then per item: receipt, received, enqueued, duplicate.
 */
const CONFIRM_LUA = `
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local jobKey = KEYS[2 * i - 1]
  local auditKey = KEYS[2 * i]
  local a = 3 + (i - 1) * 4
  local data = redis.call('HGET', jobKey, 'data')
  local fresh = data and string.find(data, ARGV[a + 1], 1, true) ~= nil
  redis.call('RPUSH', auditKey, ARGV[a + 2], fresh and ARGV[a + 3] or ARGV[a + 4])
  redis.call('LTRIM', auditKey, -tonumber(ARGV[3]), -1)
  redis.call('PEXPIRE', auditKey, ARGV[2])
  out[i] = fresh and 1 or 0
end
return out
`;

type ConfirmingRedis = Redis & {
  rpaConfirmBatch(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

interface PendingAdd {
  data: StartJobData;
  jobId: string;
  entries: string[];
  ctx: Context;
  resolve: (o: EnqueueOutcome) => void;
  reject: (e: unknown) => void;
}

export interface Enqueuer {
  queues: ReadonlyMap<string, Queue>;
  /** Jobs of this route that no worker has taken yet (waiting + prioritized); a plain number when cached. */
  backlog(route: Route): number | Promise<number>;
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
  /** The backlog limit, so the backlog can be read cheaply while far below it. */
  maxBacklog: number;
  /** BullMQ's OpenTelemetry integration: each job carries its request's trace context to the worker. */
  tracing: boolean;
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
  if (typeof redis.rpaConfirmBatch !== 'function') redis.defineCommand('rpaConfirmBatch', { lua: CONFIRM_LUA });
  const jobOptions = defaultJobOptions({ dedupeTtlMs: opts.dedupeTtlMs, attempts: opts.attempts });
  const queues = new Map<string, Queue>();
  for (const route of opts.routes) {
    const q = new Queue(queueNameFor(route), {
      connection: redis,
      prefix: opts.prefix,
      defaultJobOptions: jobOptions,
      ...(opts.tracing ? { telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) } : {}),
    });
    q.on('error', opts.onError);
    queues.set(route.name, q);
  }
  const queueOf = (route: Route) => queues.get(route.name) as Queue;

  async function countBacklog(route: Route): Promise<number> {
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
  }

  /**
   * The backlog is read from Redis at most every BACKLOG_REFRESH_MS per route
   * while it is far below the limit (adds since the read are counted locally),
   * and on every request once it gets close, so the 429 threshold stays exact.
   */
  const backlogCache = new Map<string, { value: number; at: number; added: number; pending?: Promise<number> }>();
  function backlogOf(route: Route): number | Promise<number> {
    const now = Date.now();
    let entry = backlogCache.get(route.name);
    const estimate = entry ? entry.value + entry.added : Number.POSITIVE_INFINITY;
    const fresh = entry !== undefined && now - entry.at < BACKLOG_REFRESH_MS;
    if (fresh && estimate < opts.maxBacklog * BACKLOG_EXACT_ABOVE) return estimate;
    if (!entry?.pending) {
      entry ??= { value: 0, at: 0, added: 0 };
      backlogCache.set(route.name, entry);
      const e = entry;
      e.pending = countBacklog(route).then(
        (value) => {
          Object.assign(e, { value, at: Date.now(), added: 0, pending: undefined });
          return value;
        },
        (err) => {
          e.pending = undefined;
          throw err;
        },
      );
    }
    return entry.pending as Promise<number>;
  }
  const noteAdded = (route: Route) => {
    const entry = backlogCache.get(route.name);
    if (entry) entry.added++;
  };
  const key = (route: Route, suffix: string) => `${opts.prefix}:${queueNameFor(route)}:${suffix}`;

  /**
   * Requests that arrive in the same event-loop turn are written together:
   * their adds concurrently and one confirm script per route, so round trips
   * (the dominant cost here) are shared. Under light load a batch is one request.
   */
  const batches = new Map<string, PendingAdd[]>();
  let flushScheduled = false;
  function flushAll() {
    flushScheduled = false;
    const ready = [...batches];
    batches.clear();
    for (const [routeName, items] of ready) void flush(routeByName.get(routeName) as Route, items);
  }
  async function flush(route: Route, items: PendingAdd[]) {
    // One timer per batch, not per request: whatever Redis has not answered by then is `unavailable`.
    const timer = setTimeout(() => {
      const err = new BridgeError('unavailable', `Redis did not answer within ${opts.timeoutMs} ms`);
      for (const i of items) i.reject(err);
    }, opts.timeoutMs);
    try {
      // Concurrent adds: measured cheaper than addBulk's one pipeline, as ioredis copies all of BullMQ's
      // scripts onto every pipeline it creates (docs/benchmarks.md).
      const queue = queueOf(route);
      // Each add in its own request's trace context (batched adds run outside the requests' contexts).
      await Promise.all(
        items.map((i) => context.with(i.ctx, () => queue.add(START_JOB, i.data, { ...jobOptions, jobId: i.jobId }))),
      );
      const keys: string[] = [];
      const argv: (string | number)[] = [items.length, opts.auditTtlMs, AUDIT_MAX_ENTRIES];
      for (const i of items) {
        keys.push(key(route, i.jobId), auditKeyForJobId(opts.prefix, i.jobId));
        argv.push(i.data.receipt, ...i.entries);
      }
      const fresh = await redis.rpaConfirmBatch(keys.length, ...keys, ...argv);
      items.forEach((i, n) => {
        i.resolve(fresh[n] === 1 ? 'accepted' : 'duplicate');
      });
    } catch (err) {
      for (const i of items) i.reject(err);
    } finally {
      clearTimeout(timer);
    }
  }
  const routeByName = new Map(opts.routes.map((r) => [r.name, r]));
  type AuditTemplates = ((at: Date) => string)[];
  const templates = new Map<string, AuditTemplates>(
    opts.routes.map((r) => [
      r.name,
      (['received', 'enqueued', 'duplicate'] as const).map((type) => opts.audit.template({ type, route: r.name })),
    ]),
  );

  return {
    queues,
    backlog: backlogOf,
    async exists(route, correlationId) {
      try {
        await whenReady(redis, opts.timeoutMs);
        return (await withTimeout(redis.exists(key(route, toJobId(correlationId))), opts.timeoutMs)) === 1;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async enqueue(route, fields) {
      const data: StartJobData = { v: 1, ...fields, receipt: randomUUID() };
      const at = new Date();
      const entries = (templates.get(route.name) as AuditTemplates).map((t) => t(at));
      try {
        if (redis.status !== 'ready') await whenReady(redis, opts.timeoutMs);
        const outcome = await new Promise<EnqueueOutcome>((resolve, reject) => {
          let batch = batches.get(route.name);
          if (!batch) {
            batch = [];
            batches.set(route.name, batch);
          }
          batch.push({ data, jobId: toJobId(data.correlationId), entries, ctx: context.active(), resolve, reject });
          if (!flushScheduled) {
            flushScheduled = true;
            setImmediate(flushAll);
          }
        });
        if (outcome === 'accepted') noteAdded(route);
        return outcome;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async close() {
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
    },
  };
}
