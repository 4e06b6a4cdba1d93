import { describe, expect, it } from 'vitest';
import { createRedactor, luhnValid, REDACTED, redactText } from './redaction.js';

describe('redaction', () => {
  it('masks Luhn-valid cards, SSNs, e-mails and phone numbers in text', () => {
    expect(redactText('card 4111 1111 1111 1111 ok')).toBe(`card ${REDACTED} ok`);
    expect(redactText('card 4111-1111-1111-1112 stays')).toContain('4111-1111-1111-1112'); // fails Luhn
    expect(redactText('ssn 078-05-1120')).toBe(`ssn ${REDACTED}`);
    expect(redactText('mail jane.doe@example.com now')).toBe(`mail ${REDACTED} now`);
    expect(redactText('call tel:+15555550457')).toBe(`call ${REDACTED}`);
    expect(redactText('call (555) 123-4567')).toBe(`call ${REDACTED}`);
  });

  it('leaves ids and timestamps alone', () => {
    for (const s of ['89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d', '2023-10-27T14:30:00.000Z', 'rpa-trigger-unique-uuid']) {
      expect(redactText(s)).toBe(s);
    }
  });

  it('masks PII_FIELDS by name, case- and separator-insensitively, deeply', () => {
    const r = createRedactor(['loyaltyId']);
    expect(r.value({ a: { Customer_Name: 'x', loyalty_id: 'y', ok: 'fine', list: [{ email: 'e' }] } })).toEqual({
      a: { Customer_Name: REDACTED, loyalty_id: REDACTED, ok: 'fine', list: [{ email: REDACTED }] },
    });
  });

  it('implements Luhn', () => {
    expect(luhnValid('4539148803436467')).toBe(true);
    expect(luhnValid('4539148803436468')).toBe(false);
  });
});
