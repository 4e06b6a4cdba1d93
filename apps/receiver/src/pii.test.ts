import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver } from '../../../test/support/receiver.js';
import { dumpRedis } from '../../../test/support/redis-dump.js';

const SAMPLES = join(import.meta.dirname, '../../../test/fixtures/genesys');

/** Canaries: each unique to this file, so other suites sharing the Redis cannot produce a hit. */
const CARD = '4539 1488 0343 6467'; // Luhn-valid
const CARD_DIGITS = CARD.replace(/ /g, '');
const SSN = '078-05-1120';
const NAME = 'Zebulon Canaryfield';
const EMAIL = 'zebulon.canary@example.org';
const PHONE = '+1 555 013 9988';
// Long enough never to occur by chance in the shared test Redis (a 4-digit fragment did, in base64 ids).
const CANARIES = [CARD, CARD_DIGITS, SSN, NAME, EMAIL, PHONE, 'Canaryfield', '0343 6467', '4539148803'];

describe('PII canary: unmapped fields reach neither Redis nor the logs', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({ redisUrl: inject('redisUrl'), env: { ADMIN_TOKEN: 'admin-token' } });
  });
  afterAll(() => t.close());

  it('across accepted, duplicate, rejected and sensitive-mapped events', async () => {
    const pii = {
      customerName: NAME,
      cardNumber: CARD,
      ssn: SSN,
      email: EMAIL,
      phone: PHONE,
      free: `call ${PHONE} re ${CARD}`,
    };
    const accepted = flatEvent({ customerName: NAME, extra: pii, metadata: { taskType: 'account_update', ...pii } });
    expect((await post(t.url, accepted)).status).toBe(202);
    expect((await post(t.url, accepted)).status).toBe(200);
    expect((await post(t.url, flatEvent({ metadata: { taskType: 'unrouted', ...pii } }))).status).toBe(422);
    expect((await post(t.url, flatEvent({ contactId: NAME, interactionId: 5, metadata: pii }))).status).toBe(400);
    expect((await post(t.url, flatEvent({ correlationId: SSN, metadata: { taskType: 'refund' } }))).status).toBe(400);
    // mapped on purpose, but marked sensitive: stored sealed only
    expect(
      (await post(t.url, flatEvent({ metadata: { taskType: 'refund', note: `${NAME} ${CARD}`, ...pii } }))).status,
    ).toBe(202);
    // EventBridge envelope with PII in eventBody (ani, dnis, wrap-up notes and the canaries)
    const eb = JSON.parse(readFileSync(join(SAMPLES, 'eventbridge-acw-voice-synthetic.json'), 'utf8'));
    Object.assign(eb.detail.eventBody, pii, { wrapupNotes: `${NAME} asked about ${CARD}` });
    eb.detail.metadata.CorrelationId = `pii-${Date.now()}`;
    expect((await post(t.url, eb)).status).toBe(202);
    // the audit API and Bull Board's job API, as an operator would read them
    const auth = { authorization: 'Bearer admin-token' };
    const trail = await fetch(`${t.url}/v1/transactions/${accepted.correlationId}`, { headers: auth });
    expect(trail.status).toBe(200);
    const board = await fetch(`${t.url}/admin/queues/api/queues?activeQueue=refunds&status=latest&page=1`, {
      headers: auth,
    });
    expect(board.status).toBe(200);
    const surfaces = `${await trail.text()}\n${await board.text()}`;
    expect(surfaces).toContain('enc:v1:'); // the board really listed the sealed job

    const redisDump = await dumpRedis(t.inspect);
    const logs = t.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(redisDump).toContain(String(accepted.correlationId)); // the scan does see this run's data
    for (const canary of CANARIES) {
      expect(redisDump.includes(canary), `Redis holds ${canary}`).toBe(false);
      expect(logs.includes(canary), `logs hold ${canary}`).toBe(false);
      expect(surfaces.includes(canary), `admin surfaces hold ${canary}`).toBe(false);
    }
    expect(redisDump).not.toContain('tel:+1555');
    expect(logs).not.toContain('tel:+1555');
  });
});
