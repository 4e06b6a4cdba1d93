import type { OrchestratorError } from '@rpa-bridge/uipath-client';
import type { BackoffStrategy } from 'bullmq';

/** A failure to retry later; `retryAfterMs` (from Orchestrator's Retry-After) is a floor on the delay. */
export class RetryLater extends Error {
  readonly code = 'retry_later';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** BullMQ job option `backoff: { type: 'rpa-bridge' }` resolves to this. */
export const BACKOFF_TYPE = 'rpa-bridge';

/**
 * Exponential backoff with jitter (uniform in [d/2, d]), capped at `maxMs`,
 * never shorter than a server's Retry-After. BullMQ's built-in exponential
 * has no cap, hence a custom strategy.
 */
export function createBackoff({ baseMs, maxMs, random = Math.random }: BackoffOptions): BackoffStrategy {
  return (attemptsMade, _type, err) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    const delay = ceiling / 2 + (random() * ceiling) / 2;
    const floor = err instanceof RetryLater ? (err.retryAfterMs ?? 0) : 0;
    return Math.round(Math.max(delay, floor));
  };
}

/** Statuses a gateway answers while the origin may still be working on the request. */
const GATEWAY_GAVE_UP = new Set([408, 502, 504, 524]);

/**
 * How long a retry of a start must wait before its Reference lookup: a start
 * that got no answer (timeout, reset) or a gateway's give-up may still land at
 * Orchestrator, and a lookup before it does would miss it and start a second
 * robot job. An answer from Orchestrator itself (500, 503, …) means its
 * processing ended, so the lookup can come at once.
 */
export function settleDelayMs(e: Pick<OrchestratorError, 'kind' | 'status'>, settleMs: number): number {
  if (e.kind !== 'ambiguous') return 0;
  return e.status === undefined || GATEWAY_GAVE_UP.has(e.status) ? settleMs : 0;
}
