import { context } from '@opentelemetry/api';
import {
  type AuditTrail,
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
import { createJobWriter, type JobToWrite, type JobWriter } from './job-writer.js';

export type EnqueueOutcome = 'accepted' | 'duplicate';

const BACKLOG_REFRESH_MS = 100;
/**
 * A route's batch is written as soon as it holds this many jobs, while the
 * event loop is still reading the turn's other requests, so Redis works on it
 * alongside instead of after the turn; what is left goes at the end of the
 * turn. At 100 connections on two cores the machine went from ~83 % to ~88 %
 * busy and req/s rose in 6 of 8 interleaved pairs (median ~+4 %) against one
 * script per turn, which carried ~24 jobs; 4 and 16 measured like 8. It also
 * bounds how long one script holds Redis (~20 µs a job).
 */
export const WRITE_BATCH = 8;
/** Above this share of MAX_BACKLOG every request reads the backlog from Redis. */
const BACKLOG_EXACT_ABOVE = 0.5;

interface PendingAdd extends JobToWrite {
  resolve: (o: EnqueueOutcome) => void;
  reject: (e: unknown) => void;
}

export interface Enqueuer {
  queues: ReadonlyMap<string, Queue>;
  /** Jobs of this route that no worker has taken yet (waiting + prioritized); a plain number when cached. */
  backlog(route: Route): number | Promise<number>;
  /** Whether a job for this correlationId exists in the route's queue. */
  exists(route: Route, correlationId: string): Promise<boolean>;
  enqueue(route: Route, data: Omit<StartJobData, 'v'>): Promise<EnqueueOutcome>;
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
  /**
   * Tracing: each written job carries its request's trace context to the worker (job-writer.ts),
   * and the queues' own operations (admin redrive) get BullMQ's spans.
   */
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
  const { redis } = opts;
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
   * Requests that arrive in the same event-loop turn are written together, up
   * to WRITE_BATCH per script call and route (job-writer.ts): the round trip
   * and the script call are shared. Under light load a batch is one request.
   */
  const batches = new Map<string, PendingAdd[]>();
  let flushScheduled = false;
  function flushAll() {
    flushScheduled = false;
    for (const [routeName, items] of batches) void flush(writers.get(routeName) as JobWriter, items);
    batches.clear();
  }
  async function flush(write: JobWriter, items: PendingAdd[]) {
    // One timer per batch, not per request: whatever Redis has not answered by then is `unavailable`.
    const timer = setTimeout(() => {
      const err = new BridgeError('unavailable', `Redis did not answer within ${opts.timeoutMs} ms`);
      for (const i of items) i.reject(err);
    }, opts.timeoutMs);
    try {
      const created = await write(items);
      items.forEach((i, n) => {
        i.resolve(created[n] ? 'accepted' : 'duplicate');
      });
    } catch (err) {
      for (const i of items) i.reject(err);
    } finally {
      clearTimeout(timer);
    }
  }
  const writers = new Map<string, JobWriter>(
    opts.routes.map((r) => [
      r.name,
      createJobWriter({
        redis,
        prefix: opts.prefix,
        queueName: queueNameFor(r),
        jobName: START_JOB,
        jobOptions,
        audit: {
          received: opts.audit.template({ type: 'received', route: r.name }),
          enqueued: opts.audit.template({ type: 'enqueued', route: r.name }),
          duplicate: opts.audit.template({ type: 'duplicate', route: r.name }),
        },
        auditTtlMs: opts.auditTtlMs,
        tracing: opts.tracing,
      }),
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
      const data: StartJobData = { v: 1, ...fields };
      const jobId = toJobId(data.correlationId);
      try {
        if (redis.status !== 'ready') await whenReady(redis, opts.timeoutMs);
        const outcome = await new Promise<EnqueueOutcome>((resolve, reject) => {
          let batch = batches.get(route.name);
          if (!batch) {
            batch = [];
            batches.set(route.name, batch);
          }
          const ctx = opts.tracing ? context.active() : undefined;
          batch.push({
            jobId,
            data: JSON.stringify(data),
            receivedAt: data.receivedAt,
            ...(ctx ? { ctx } : {}),
            resolve,
            reject,
          });
          if (batch.length >= WRITE_BATCH) {
            batches.delete(route.name);
            void flush(writers.get(route.name) as JobWriter, batch);
          } else if (!flushScheduled) {
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
