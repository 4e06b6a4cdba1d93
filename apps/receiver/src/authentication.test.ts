import { signBody } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver } from '../../../test/support/receiver.js';

/** Pretty-printed JSON: bytes that differ from what JSON.stringify(JSON.parse(body)) would give. */
const pretty = (v: unknown) => `${JSON.stringify(v, null, 3)}\n`;

describe('API keys and HMAC signatures, both required when both are configured', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { WEBHOOK_API_KEYS: 'old-key,new-key', WEBHOOK_HMAC_SECRETS: 'old-secret, new-secret' },
    });
  });
  afterAll(() => t.close());

  const signed = (body: string, secret: string, extra: Record<string, string> = {}) => ({
    'x-api-key': 'new-key',
    'x-genesys-signature': signBody(secret, body),
    ...extra,
  });

  it('every active key and secret is accepted (rotation), in every header form', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const cases: [label: string, secret: string, keyHeaders: Record<string, string>][] = [
      ['old-key via X-API-Key', 'old-secret', { 'x-api-key': 'old-key' }],
      ['new-key via Bearer', 'new-secret', { 'x-api-key': '', authorization: 'Bearer new-key' }],
      ['Basic user:key', 'old-secret', { 'x-api-key': '', authorization: `Basic ${b64('genesys:old-key')}` }],
      ['Basic key:', 'new-secret', { 'x-api-key': '', authorization: `Basic ${b64('new-key:')}` }],
    ];
    for (const [label, secret, keyHeaders] of cases) {
      const body = pretty(flatEvent());
      const res = await post(t.url, body, { ...signed(body, secret), ...keyHeaders });
      expect(res.status, label).toBe(202);
    }
  });

  it('X-Hub-Signature-256 in base64 and in hex', async () => {
    for (const enc of ['base64', 'hex'] as const) {
      const body = pretty(flatEvent());
      const res = await post(t.url, body, {
        'x-api-key': 'new-key',
        'x-hub-signature-256': signBody('new-secret', body, enc),
      });
      expect(res.status, enc).toBe(202);
    }
  });

  it('the signature covers the raw bytes, not re-serialised JSON', async () => {
    const ev = flatEvent();
    const body = pretty(ev);
    expect(body).not.toBe(JSON.stringify(JSON.parse(body)));
    const overReserialised = signBody('new-secret', JSON.stringify(ev));
    const res = await post(t.url, body, { 'x-api-key': 'new-key', 'x-genesys-signature': overReserialised });
    expect(res.status).toBe(401);
    expect((await post(t.url, body, signed(body, 'new-secret'))).status).toBe(202);
  });

  it('a replayed signed request is a duplicate, never a second job', async () => {
    const body = pretty(flatEvent());
    const headers = signed(body, 'new-secret');
    expect((await post(t.url, body, headers)).status).toBe(202);
    for (let i = 0; i < 3; i++) expect((await post(t.url, body, headers)).status).toBe(200);
    expect((await t.inspect.keys(`${t.prefix}:billing-account-update:c-*`)).length).toBeGreaterThan(0);
    expect(await t.inspect.llen(`${t.prefix}:billing-account-update:wait`)).toBe(
      (await t.inspect.keys(`${t.prefix}:billing-account-update:c-*`)).length,
    );
  });

  it('401 for a missing, truncated, forged or retired signature, and for a key that differs by one character', async () => {
    const body = pretty(flatEvent());
    const good = signBody('new-secret', body);
    const cases: [string, Record<string, string>][] = [
      ['no signature', { 'x-api-key': 'new-key' }],
      ['truncated', { 'x-api-key': 'new-key', 'x-genesys-signature': good.slice(0, -2) }],
      ['forged', { 'x-api-key': 'new-key', 'x-genesys-signature': signBody('guess', body) }],
      ['retired secret', { 'x-api-key': 'new-key', 'x-genesys-signature': signBody('older-secret', body) }],
      ['one char off key', { 'x-api-key': 'new-kez', 'x-genesys-signature': good }],
      ['no key', { 'x-api-key': '', 'x-genesys-signature': good }],
      [
        'signature of another body',
        { 'x-api-key': 'new-key', 'x-genesys-signature': signBody('new-secret', `${body} `) },
      ],
    ];
    for (const [label, headers] of cases) {
      const res = await post(t.url, body, headers);
      expect(res.status, label).toBe(401);
      expect(res.json.error, label).toBe('unauthorized');
    }
  });
});

describe('replay window (MAX_EVENT_AGE)', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { WEBHOOK_API_KEYS: '', WEBHOOK_HMAC_SECRETS: 's1', MAX_EVENT_AGE: '5m' },
    });
  });
  afterAll(() => t.close());

  it('401 for a correctly signed event older than the window; 202 inside it', async () => {
    const old = JSON.stringify(flatEvent({ timestamp: new Date(Date.now() - 10 * 60_000).toISOString() }));
    const res = await post(t.url, old, { 'x-api-key': '', 'x-genesys-signature': signBody('s1', old) });
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('unauthorized');
    const fresh = JSON.stringify(flatEvent({ timestamp: Date.now() - 60_000 }));
    expect((await post(t.url, fresh, { 'x-api-key': '', 'x-genesys-signature': signBody('s1', fresh) })).status).toBe(
      202,
    );
  });
});

describe('IP allowlist and X-Forwarded-For', () => {
  it('403 when the peer is not allowed; X-Forwarded-For from an untrusted peer is ignored', async () => {
    const t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { ALLOWED_IPS: '10.0.0.0/8,2001:db8::/32' },
    });
    try {
      const res = await post(t.url, flatEvent());
      expect(res.status).toBe(403);
      expect(res.json.error).toBe('forbidden');
      const spoofed = await post(t.url, flatEvent(), { 'x-forwarded-for': '10.1.2.3' });
      expect(spoofed.status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('X-Forwarded-For is honoured only when the peer is a trusted proxy, and forged left entries are skipped', async () => {
    const t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { ALLOWED_IPS: '10.0.0.0/8', TRUSTED_PROXIES: '127.0.0.1/32' },
    });
    try {
      expect((await post(t.url, flatEvent(), { 'x-forwarded-for': '10.1.2.3' })).status).toBe(202);
      // the client (203.0.113.9) wrote an allowed address to the left of what our proxy appended
      expect((await post(t.url, flatEvent(), { 'x-forwarded-for': '10.9.9.9, 203.0.113.9' })).status).toBe(403);
      expect((await post(t.url, flatEvent())).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('IPv6 peers match IPv6 ranges', async () => {
    const t = await startTestReceiver({ redisUrl: inject('redisUrl'), env: { ALLOWED_IPS: '::1/128' }, host: '::1' });
    try {
      expect((await post(t.url, flatEvent())).status).toBe(202);
    } finally {
      await t.close();
    }
  });
});
