import { registerQueueDepthGauge } from '@rpa-bridge/core';
import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  orchestratorSeconds: Histogram<'operation' | 'status'>;
  orchestratorErrors: Counter<'operation' | 'status' | 'kind'>;
  jobs: Counter<'route' | 'outcome'>;
  slaSeconds: Histogram<'route'>;
  slaBreaches: Counter<'route'>;
  tokenRefreshes: Counter;
}

export function createWorkerMetrics(queues: () => Iterable<Queue>, registry = new Registry()): WorkerMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'rpa_worker_' });
  registerQueueDepthGauge(registry, queues);
  return {
    registry,
    orchestratorSeconds: new Histogram({
      name: 'rpa_worker_orchestrator_request_duration_seconds',
      help: 'Orchestrator call latency by operation and HTTP status (or "error" when no response came)',
      labelNames: ['operation', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    orchestratorErrors: new Counter({
      name: 'rpa_worker_orchestrator_errors_total',
      help: 'Failed Orchestrator calls by operation, HTTP status and kind (retryable, ambiguous, permanent)',
      labelNames: ['operation', 'status', 'kind'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'rpa_worker_jobs_total',
      help: 'Job outcomes by route: started, recovered (found by Reference), duplicate_reference, retried, delayed, dead_lettered, robot_<state>',
      labelNames: ['route', 'outcome'] as const,
      registers: [registry],
    }),
    slaSeconds: new Histogram({
      name: 'rpa_worker_sla_seconds',
      help: 'Event timestamp to Orchestrator accepting the start, by route',
      labelNames: ['route'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: 'rpa_worker_sla_breaches_total',
      help: 'Starts later than SLA_SECONDS after the event, by route',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
    tokenRefreshes: new Counter({
      name: 'rpa_worker_token_refreshes_total',
      help: 'OAuth2 access tokens fetched from the identity server',
      registers: [registry],
    }),
  };
}
