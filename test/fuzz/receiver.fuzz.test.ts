import { connect } from 'node:net';
import { signBody } from '@rpa-bridge/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, startTestReceiver, type TestReceiver } from '../support/receiver.js';

/** Statuses a client may ever see from the webhook endpoint (never a 5xx for bad input). */
const ALLOWED = new Set([200, 202, 400, 401, 403, 405, 413, 415, 422, 429]);

const valid = () => flatEvent();
/** Values of every JSON type, including hostile ones. */
const nasty = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    ' ',
    '\u0000',
    '\uFFFF',
    '𝒳',
    'NaN',
    '-0',
    '1e309',
    'x'.repeat(5000),
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const fieldNames = fc.constantFrom(
  'eventType',
  'timestamp',
  'contactId',
  'interactionId',
  'userId',
  'correlationId',
  'metadata',
  '__proto__',
  'detail',
  'topicName',
  'eventBody',
);

/** A valid event with one or more fields replaced, deleted or added. */
const mutatedEvent = fc
  .tuple(
    fc.array(fc.tuple(fieldNames, fc.option(nasty, { nil: undefined })), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([edits, proto]) => {
    const ev: Record<string, unknown> = valid();
    for (const [k, v] of edits) {
      if (v === undefined) delete ev[k];
      else ev[k] = v;
    }
    const text = JSON.stringify(ev);
    return proto
      ? text.replace('{', '{"__proto__":{"eventType":"polluted","metadata":{"taskType":"account_update"}},')
      : text;
  });
const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const deepObject = fc.integer({ min: 100, max: 5000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
const invalidUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 200 })
  .map((b) => Buffer.concat([Buffer.from('{"eventType":"'), Buffer.from([0xc3, 0x28, ...b]), Buffer.from('"}')]));
const body = fc.oneof(
  { weight: 4, arbitrary: mutatedEvent },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: deepObject },
  { weight: 1, arbitrary: invalidUtf8 },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 60_000, max: 80_000 }).map((n) => JSON.stringify({ ...valid(), pad: 'p'.repeat(n) })),
  },
);
// Mostly well-formed envelopes, so most cases reach the parser and the schema: an index picks the
// variant (fc.oneof weights would be skewed by fast-check's bias towards small cases).
const mostly = <T>(good: T, others: T[]) =>
  fc.nat({ max: 99 }).map((n) => (n % 4 !== 3 ? good : (others[n % others.length] as T)));
const contentType = mostly('application/json', [
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/cloudevents+json',
  '',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
]);
const auth = mostly('good', ['none', 'wrong', 'one-off', 'bearer', 'basic-garbage']);
const signature = mostly('good', ['none', 'truncated', 'other-body', 'garbage', 'base64-hub']);

describe('fuzzing the receiver (fast-check, real HTTP, real Redis)', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { WEBHOOK_API_KEYS: 'fuzz-key', WEBHOOK_HMAC_SECRETS: 'fuzz-secret' },
    });
  });
  afterAll(() => t.close());

  it('10,000 random and mutated requests: never a 5xx, never a crash, a job only for a 202', async () => {
    const seen = new Map<number, number>();
    let accepted = 0;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(body, contentType, auth, signature, async (b, ct, a, sig) => {
        const bytes = typeof b === 'string' ? Buffer.from(b) : b;
        const headers: Record<string, string> = {};
        if (ct) headers['content-type'] = ct;
        if (a === 'good') headers['x-api-key'] = 'fuzz-key';
        if (a === 'wrong') headers['x-api-key'] = 'nope';
        if (a === 'one-off') headers['x-api-key'] = 'fuzz-kez';
        if (a === 'bearer') headers.authorization = 'Bearer fuzz-key';
        if (a === 'basic-garbage') headers.authorization = 'Basic %%%';
        const good = signBody('fuzz-secret', bytes);
        if (sig === 'good') headers['x-genesys-signature'] = good;
        if (sig === 'truncated') headers['x-genesys-signature'] = good.slice(0, 20);
        if (sig === 'other-body') headers['x-genesys-signature'] = signBody('fuzz-secret', `${bytes.toString()} `);
        if (sig === 'garbage') headers['x-genesys-signature'] = 'sha256=zzzz';
        if (sig === 'base64-hub') headers['x-hub-signature-256'] = signBody('fuzz-secret', bytes, 'base64');
        const res = await fetch(`${t.url}/v1/events`, { method: 'POST', headers, body: bytes });
        const text = await res.text();
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (!ALLOWED.has(res.status)) throw new Error(`status ${res.status}`);
        const json = JSON.parse(text) as { error?: string; status?: string };
        if (res.status >= 400 && typeof json.error !== 'string') throw new Error('error body without a code');
        if (res.status === 202) accepted++;
      }),
      { numRuns: 10_000, endOnFailure: true },
    );
    // a job exists exactly for each 202, so no invalid event made one
    const jobKeys = (await t.inspect.keys(`${t.prefix}:*:c-*`)).filter((k) => !k.includes(':_audit:')).length;
    expect(jobKeys).toBe(accepted);
    expect(({} as Record<string, unknown>).eventType).toBeUndefined(); // no prototype pollution
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    // memory back near the baseline once garbage is collected
    expect(global.gc, 'vitest runs with --expose-gc').toBeTypeOf('function');
    global.gc?.();
    const grown = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(grown).toBeLessThan(16);
    process.stdout.write(
      `fuzz statuses: ${JSON.stringify(Object.fromEntries(seen))}; jobs created: ${jobKeys}; heap growth ${grown.toFixed(1)} MiB\n`,
    );
  }, 300_000);

  it('slow-loris bodies neither block other senders nor crash the receiver', async () => {
    const { hostname, port } = new URL(t.url);
    const sockets = Array.from({ length: 20 }, () => {
      const s = connect(Number(port), hostname);
      s.on('error', () => {});
      s.write(
        `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-API-Key: fuzz-key\r\nContent-Length: 100000\r\n\r\n{"eventType":`,
      );
      return s;
    });
    try {
      for (let i = 0; i < 5; i++) {
        for (const s of sockets) s.write('"');
        const ev = JSON.stringify(valid());
        const res = await fetch(`${t.url}/v1/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-api-key': 'fuzz-key',
            'x-genesys-signature': signBody('fuzz-secret', ev),
          },
          body: ev,
        });
        expect(res.status).toBe(202);
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
