import { registerQueueDepthGauge } from '@rpa-bridge/core';
import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface ReceiverMetrics {
  registry: Registry;
  requests: Counter<'status' | 'outcome' | 'route'>;
  enqueueSeconds: Histogram<'outcome'>;
  requestSeconds: Histogram<'status'>;
  /** Counts a webhook request and observes its latency. */
  recordRequest(status: number, outcome: string, route: string, seconds: number): void;
  recordEnqueue(outcome: string, seconds: number): void;
}

/**
 * `labels()` builds and validates a label object on every call; the label sets
 * here are few (statuses × outcomes × routes), so each child is made once.
 * (prom-client still hashes the labels on each inc/observe of a child.)
 */
function childCache<T>(make: (key: string) => T): (key: string) => T {
  const children = new Map<string, T>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make(key);
      children.set(key, child);
    }
    return child;
  };
}

/**
 * Prometheus metrics of the receiver. Queue depth is read from Redis at
 * scrape time (one pipelined call per queue), so it is never stale.
 */
export function createReceiverMetrics(queues: () => Iterable<Queue>, registry = new Registry()): ReceiverMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'rpa_receiver_' });
  const requests = new Counter({
    name: 'rpa_receiver_requests_total',
    help: 'Webhook requests by HTTP status, outcome (accepted, duplicate or error code) and route',
    labelNames: ['status', 'outcome', 'route'] as const,
    registers: [registry],
  });
  const enqueueSeconds = new Histogram({
    name: 'rpa_receiver_enqueue_duration_seconds',
    help: 'Time to write a job durably to Redis (one write script per batch), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'rpa_receiver_request_duration_seconds',
    help: 'Webhook request latency, by HTTP status',
    labelNames: ['status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  registerQueueDepthGauge(registry, queues);
  const requestChild = childCache((key) => {
    const [status, outcome, route] = key.split('\n') as [string, string, string];
    return { count: requests.labels({ status, outcome, route }), latency: requestSeconds.labels({ status }) };
  });
  const enqueueChild = childCache((outcome) => enqueueSeconds.labels({ outcome }));
  return {
    registry,
    requests,
    enqueueSeconds,
    requestSeconds,
    recordRequest(status, outcome, route, seconds) {
      const child = requestChild(`${status}\n${outcome}\n${route}`);
      child.count.inc();
      child.latency.observe(seconds);
    },
    recordEnqueue(outcome, seconds) {
      enqueueChild(outcome).observe(seconds);
    },
  };
}
