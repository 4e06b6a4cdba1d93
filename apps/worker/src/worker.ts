import type { AuditTrail, Redactor, Route } from '@rpa-bridge/core';
import { queueNameFor, startJobSchema, TRACER_NAME } from '@rpa-bridge/core';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';
import { createProcessor, type ProcessDeps } from './process-job.js';
import { BACKOFF_TYPE, createBackoff } from './retry.js';

export interface WorkerOptions {
  /** A connection with `maxRetriesPerRequest: null` (BullMQ duplicates it for blocking reads). */
  redis: Redis;
  prefix: string;
  routes: readonly Route[];
  /** Per process and route; the route's `concurrency` caps all workers together. */
  concurrency: number;
  lockMs: number;
  maxStalledCount: number;
  maxStartedAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  process: Omit<ProcessDeps, 'routes' | 'shutdown'>;
  audit: AuditTrail;
  redactor: Redactor;
  metrics: WorkerMetrics;
  logger: Logger;
  /** BullMQ's OpenTelemetry integration: job processing continues the receiver's trace. */
  tracing?: boolean;
}

export interface RunningWorkers {
  queues: Map<string, Queue>;
  workers: Worker[];
  /** Stops fetching, releases jobs waiting on robots, waits for in-flight starts up to `deadlineMs`. */
  close(deadlineMs: number): Promise<'drained' | 'deadline'>;
}

/**
 * One BullMQ Worker per route queue. The route's `concurrency` is set as the
 * queue's global concurrency, so it holds across every worker process.
 */
export async function createWorkers(o: WorkerOptions): Promise<RunningWorkers> {
  const shutdown = new AbortController();
  const processor = createProcessor({
    ...o.process,
    routes: new Map(o.routes.map((r) => [r.name, r])),
    shutdown: shutdown.signal,
  });
  const backoffStrategy = createBackoff(o.backoff);
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const telemetry = o.tracing ? { telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) } : {};
  for (const route of o.routes) {
    const name = queueNameFor(route);
    const queue = new Queue(name, { connection: o.redis, prefix: o.prefix, ...telemetry });
    queue.on('error', (err) => o.logger.warn({ err: { message: o.redactor.text(err.message) } }, 'queue error'));
    await queue.setGlobalConcurrency(route.concurrency);
    queues.set(route.name, queue);
    const worker = new Worker(name, processor, {
      connection: o.redis,
      prefix: o.prefix,
      concurrency: Math.min(o.concurrency, route.concurrency),
      lockDuration: o.lockMs,
      stalledInterval: o.lockMs,
      maxStalledCount: o.maxStalledCount,
      maxStartedAttempts: o.maxStartedAttempts,
      ...telemetry,
      settings: {
        backoffStrategy: (attemptsMade, type, err, job) =>
          type === BACKOFF_TYPE ? backoffStrategy(attemptsMade, type, err, job) : -1,
      },
    });
    worker.on('error', (err) => o.logger.warn({ err: { message: o.redactor.text(err.message) } }, 'worker error'));
    worker.on('failed', (job, err) => {
      // Failures decided by BullMQ itself (stalled or started too often) bypass the processor's audit.
      if (!job || !/more than allowable limit/.test(err.message)) return;
      const data = startJobSchema.safeParse(job.data);
      if (!data.success) return;
      o.metrics.jobs.inc({ route: route.name, outcome: 'dead_lettered' });
      o.audit
        .record(data.data.correlationId, { type: 'dead-lettered', route: route.name, reason: err.message })
        .catch(() => {});
    });
    workers.push(worker);
  }
  return {
    queues,
    workers,
    async close(deadlineMs) {
      shutdown.abort(new Error('worker shutting down'));
      const closing = Promise.all(workers.map((w) => w.close())).then(() => 'drained' as const);
      const deadline = new Promise<'deadline'>((r) => setTimeout(() => r('deadline'), deadlineMs).unref());
      const result = await Promise.race([closing, deadline]);
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      return result;
    },
  };
}
