import { describe, expect, it } from 'vitest';
import { createBackoff, RetryLater, settleDelayMs } from './retry.js';

describe('backoff', () => {
  it('grows exponentially within [d/2, d], capped at the maximum', () => {
    const low = createBackoff({ baseMs: 1000, maxMs: 300_000, random: () => 0 });
    const high = createBackoff({ baseMs: 1000, maxMs: 300_000, random: () => 1 });
    expect([1, 2, 3, 4].map((n) => high(n))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => low(n))).toEqual([500, 1000, 2000, 4000]);
    expect(high(30)).toBe(300_000);
    expect(low(30)).toBe(150_000);
  });

  it("never retries sooner than the server's Retry-After", () => {
    const b = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    expect(b(1, 'rpa-bridge', new RetryLater('busy', 7000))).toBe(7000);
    expect(b(1, 'rpa-bridge', new RetryLater('busy', 10))).toBe(100);
    expect(b(1, 'rpa-bridge', new Error('other'))).toBe(100);
  });
});

describe('settle delay before the Reference lookup of a retried start', () => {
  it('applies when no answer came or a gateway gave up, not when Orchestrator answered', () => {
    expect(settleDelayMs({ kind: 'ambiguous', status: undefined }, 15_000)).toBe(15_000);
    for (const status of [408, 502, 504, 524])
      expect(settleDelayMs({ kind: 'ambiguous', status }, 15_000)).toBe(15_000);
    for (const status of [500, 503]) expect(settleDelayMs({ kind: 'ambiguous', status }, 15_000)).toBe(0);
    expect(settleDelayMs({ kind: 'retryable', status: 429 }, 15_000)).toBe(0);
    expect(settleDelayMs({ kind: 'permanent', status: 400 }, 15_000)).toBe(0);
  });
});
