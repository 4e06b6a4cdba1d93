import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

/**
 * `rpa_queue_jobs{queue,state}`, read from Redis at scrape time so it is never
 * stale (waiting + prioritized = backlog, failed = dead letters). Shared by the
 * receiver's and the worker's /metrics.
 */
export function registerQueueDepthGauge(registry: Registry, queues: () => Iterable<Queue>): Gauge<'queue' | 'state'> {
  new Gauge({
    name: 'rpa_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting for a worker, per route queue (0 when none waits)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        [...queues()].map(async (q) => {
          try {
            // The oldest job is at one end of the wait list (which end depends on BullMQ's ordering): read both.
            const ends = [...(await q.getWaiting(0, 0)), ...(await q.getWaiting(-1, -1))];
            const oldest = Math.min(...ends.map((j) => j.timestamp));
            this.set({ queue: q.name }, ends.length > 0 ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
          } catch {
            // Redis down: no sample
          }
        }),
      );
    },
  });
  return new Gauge({
    name: 'rpa_queue_jobs',
    help: 'Jobs per route queue and state (waiting + prioritized = backlog; failed = dead letters)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        [...queues()].map(async (q) => {
          try {
            const counts = await q.getJobCounts(...JOB_STATES);
            for (const state of JOB_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
          } catch {
            // Redis down: leave the series out rather than report zeros; /readyz reports the outage.
          }
        }),
      );
    },
  });
}
