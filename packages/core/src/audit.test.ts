import { describe, expect, it } from 'vitest';
import { createAuditTrail } from './audit.js';
import { createRedactor } from './redaction.js';

describe('audit entries', () => {
  // serialise and template are pure; the Redis client is never touched by them.
  const audit = createAuditTrail({
    redis: {} as never,
    prefix: 'p',
    ttlMs: 1000,
    redactor: createRedactor(),
  });

  it('a template writes exactly what serialise writes, for any time and entry', () => {
    const entries = [
      { type: 'received' as const, route: 'billing-account-update' },
      { type: 'duplicate' as const },
      { type: 'rejected' as const, reason: 'no_route for card 4111 1111 1111 1111', route: 'r' },
      { type: 'started' as const, route: 'r', orchestratorJobId: 42 },
    ];
    const times = [
      new Date(0),
      new Date('2026-12-04T16:00:00.123Z'),
      new Date(Date.UTC(2199, 11, 31, 23, 59, 59, 999)),
    ];
    for (const e of entries) {
      const t = audit.template(e);
      for (const at of times) expect(`${t[0]}${at.toISOString()}${t[1]}`).toBe(audit.serialise(e, at));
    }
  });

  it('a template keeps reasons redacted', () => {
    const line = audit.template({ type: 'rejected', reason: 'card 4111 1111 1111 1111' }).join('');
    expect(line).not.toContain('4111');
  });
});
