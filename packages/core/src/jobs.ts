import { z } from 'zod';
import type { Route } from './routes.js';

/**
 * The job catalog: one queue per route (so each route gets BullMQ's own
 * global concurrency, its own Bull Board tab and its own KEDA trigger), one
 * job name, one schema, validated when enqueued and again when processed.
 */
export const START_JOB = 'start';

/** Queue name for a route; route names are `[A-Za-z0-9][A-Za-z0-9_-]*` so never collide with `_`-keys. */
export const queueNameFor = (route: Pick<Route, 'name'>): string => route.name;

export const startJobSchema = z.strictObject({
  v: z.literal(1),
  route: z.string().min(1),
  correlationId: z.string().min(1).max(128),
  eventType: z.string().min(1),
  /** When the event happened (its own timestamp), for the SLA. */
  eventTimestamp: z.iso.datetime(),
  receivedAt: z.iso.datetime(),
  /** Route-mapped inputs, in the clear. */
  inputs: z.record(z.string(), z.unknown()),
  /** Route-mapped inputs marked `sensitive`, AES-256-GCM sealed. */
  sealed: z.record(z.string(), z.string()),
  /** Written by receivers before the one-script write (their confirm step); ignored. */
  receipt: z.string().min(1).optional(),
});

export type StartJobData = z.infer<typeof startJobSchema>;

export interface RetentionOptions {
  dedupeTtlMs: number;
  attempts: number;
}

/** Finished jobs are kept for the dedupe window (their ids block re-adds); failed ones at least 14 days (the DLQ). */
export function defaultJobOptions({ dedupeTtlMs, attempts }: RetentionOptions) {
  const dedupeSeconds = Math.ceil(dedupeTtlMs / 1000);
  return {
    attempts,
    backoff: { type: 'rpa-bridge' },
    removeOnComplete: { age: dedupeSeconds },
    removeOnFail: { age: Math.max(dedupeSeconds, 14 * 24 * 3600) },
    stackTraceLimit: 0,
  };
}
