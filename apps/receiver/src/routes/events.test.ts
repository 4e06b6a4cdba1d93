import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { normaliseEvent, startJobSchema, toJobId } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver } from '../../../../test/support/receiver.js';

const SAMPLES = join(import.meta.dirname, '../../../../test/fixtures/genesys');

async function jobData(t: TestReceiver, queue: string, correlationId: string) {
  const raw = await t.inspect.hget(`${t.prefix}:${queue}:${toJobId(correlationId)}`, 'data');
  return raw === null ? undefined : startJobSchema.parse(JSON.parse(raw));
}

describe('POST /v1/events: the SPEC §2.2 response table', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({ redisUrl: inject('redisUrl'), env: { MAX_BODY_BYTES: '2048' } });
  });
  afterAll(() => t.close());

  it('202 accepted with the correlationId once the job is in Redis, carrying only mapped inputs', async () => {
    const ev = flatEvent();
    const res = await post(t.url, ev);
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ status: 'accepted', correlationId: ev.correlationId });
    const data = await jobData(t, 'billing-account-update', ev.correlationId as string);
    expect(data?.inputs).toEqual({
      ContactId: ev.contactId,
      CorrelationId: ev.correlationId,
      triggerReason: 'account_update',
      requestTimestamp: new Date(ev.timestamp as string).toISOString(),
    });
    expect(JSON.stringify(data)).not.toContain('agent-id-12345'); // userId is not mapped
  });

  it('200 duplicate for a redelivery, on the alias path too', async () => {
    const ev = flatEvent();
    expect((await post(t.url, ev)).status).toBe(202);
    const res = await fetch(`${t.url}/webhooks/genesys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'test-key-1' },
      body: JSON.stringify(ev),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'duplicate', correlationId: ev.correlationId });
  });

  it('400 invalid_json for malformed JSON and for invalid UTF-8', async () => {
    const res = await post(t.url, '{"eventType": "x",');
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_json');
    const bad = await post(t.url, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('invalid_json');
  });

  it('400 invalid_payload lists field paths and never echoes values', async () => {
    const secretish = 'Jane Canary Doe';
    const res = await post(
      t.url,
      flatEvent({ contactId: 12345, interactionId: '', eventType: secretish, timestamp: 'yesterday' }),
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_payload');
    const paths = (res.json.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['contactId', 'interactionId', 'timestamp']);
    expect(JSON.stringify(res.json)).not.toContain('12345');
    expect(JSON.stringify(res.json)).not.toContain('yesterday');
  });

  it('400 invalid_payload when a mapped field is missing (no robot job with empty input)', async () => {
    const ev = flatEvent({ metadata: { taskType: 'refund' } }); // refunds maps metadata.note
    const res = await post(t.url, ev);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_payload', correlationId: ev.correlationId });
    expect(res.json.issues).toEqual([{ path: 'metadata.note', message: expect.stringContaining('CaseNote') }]);
    expect(await t.inspect.exists(`${t.prefix}:refunds:${toJobId(ev.correlationId as string)}`)).toBe(0);
  });

  it('400 for a correlationId over 128 characters, 202 for exactly 128', async () => {
    expect((await post(t.url, flatEvent({ correlationId: 'x'.repeat(129) }))).status).toBe(400);
    expect(
      (
        await post(
          t.url,
          flatEvent({ correlationId: `${'y'.repeat(120)}-${Date.now()}`.slice(-128).padStart(128, 'y') }),
        )
      ).status,
    ).toBe(202);
  });

  it('401 unauthorized without a key, with a wrong key, and the body is never read first', async () => {
    const none = await post(t.url, flatEvent(), { 'x-api-key': '' });
    expect(none.status).toBe(401);
    expect(none.json.error).toBe('unauthorized');
    expect((await post(t.url, flatEvent(), { 'x-api-key': 'test-key-2' })).status).toBe(401);
    // unauthenticated + non-JSON: authentication is decided first
    expect((await post(t.url, 'hello', { 'x-api-key': 'nope', 'content-type': 'text/plain' })).status).toBe(401);
  });

  it('413 payload_too_large, from Content-Length and while streaming a chunked body', async () => {
    const big = flatEvent({ metadata: { taskType: 'account_update', pad: 'p'.repeat(4000) } });
    const res = await post(t.url, big);
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('payload_too_large');
    const status = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(t.url);
      const req = request(
        {
          hostname,
          port,
          path: '/v1/events',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'test-key-1', 'transfer-encoding': 'chunked' },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"pad":"');
      const chunk = 'z'.repeat(1024);
      let sent = 0;
      const more = () => {
        // keep streaming well past the limit; the server answers 413 before we finish
        while (sent < 64 && req.write(chunk)) sent++;
        if (sent < 64) req.once('drain', more);
        else req.end('"}');
      };
      more();
    });
    expect(status).toBe(413);
  });

  it('415 unsupported_media_type for a non-JSON content type', async () => {
    const res = await post(t.url, JSON.stringify(flatEvent()), { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.json.error).toBe('unsupported_media_type');
    expect((await post(t.url, flatEvent(), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(202);
  });

  it('422 no_route for a valid event no route matches', async () => {
    const ev = flatEvent({ metadata: { taskType: 'something_else' } });
    const res = await post(t.url, ev);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ error: 'no_route', correlationId: ev.correlationId });
  });

  it('405 for other methods on the webhook path, 404 JSON elsewhere', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${t.url}/webhooks/genesys`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
    expect((await fetch(`${t.url}/v1/events`)).status).toBe(405);
    const nf = await fetch(`${t.url}/nope`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: string }).error).toBe('not_found');
  });

  it("routes webhooks on Hono's RegExpRouter to exactly one handler (Bull Board's routes kept apart)", async () => {
    // The TrieRouter (which Bull Board's routes force) and a composed chain cost every webhook request.
    expect((await fetch(`${t.url}/admin/queues`)).status).toBe(401); // the board is mounted (behind auth)
    const router = t.receiver.app.router as unknown as {
      name: string;
      match(method: string, path: string): [unknown[]];
    };
    expect(router.name).toBe('SmartRouter + RegExpRouter');
    for (const path of ['/v1/events', '/webhooks/genesys']) expect(router.match('POST', path)[0]).toHaveLength(1);
  });

  it('correlationId from X-Correlation-Id, else derived deterministically (UUIDv5)', async () => {
    const ev = flatEvent();
    delete ev.correlationId;
    const viaHeader = await post(t.url, ev, { 'x-correlation-id': 'hdr-123' });
    expect(viaHeader.json).toEqual({ status: 'accepted', correlationId: 'hdr-123' });
    const first = await post(t.url, ev);
    const again = await post(t.url, ev);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(first.json.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(again.json.correlationId).toBe(first.json.correlationId);
  });

  it('a correlationId containing ":" and one that is all digits both make jobs, and dedupe', async () => {
    for (const correlationId of [`a:b:c:${Date.now()}`, `${Date.now()}${Math.floor(Math.random() * 1e6)}`]) {
      const ev = flatEvent({ correlationId });
      expect((await post(t.url, ev)).status).toBe(202);
      expect((await post(t.url, ev)).status).toBe(200);
      expect((await jobData(t, 'billing-account-update', correlationId))?.correlationId).toBe(correlationId);
    }
  });

  it('sensitive inputs are stored sealed (AES-256-GCM), never in the clear', async () => {
    const ev = flatEvent({ metadata: { taskType: 'refund', note: 'refund to card 4111 1111 1111 1111' } });
    expect((await post(t.url, ev)).status).toBe(202);
    const data = await jobData(t, 'refunds', ev.correlationId as string);
    expect(data?.inputs).toEqual({ ContactId: ev.contactId });
    expect(data?.sealed.CaseNote).toMatch(/^enc:v1:/);
    expect(JSON.stringify(data)).not.toContain('4111');
  });
});

describe('Genesys samples (notes/genesys-samples) as fixtures', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({ redisUrl: inject('redisUrl') });
  });
  afterAll(() => t.close());

  const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.json'));

  it.each(files.filter((f) => f.startsWith('eventbridge-') && !f.includes('audit')))(
    '%s: accepted and normalised per SPEC §2.1',
    async (file) => {
      const raw = readFileSync(join(SAMPLES, file));
      const doc = JSON.parse(raw.toString('utf8'));
      const body = doc.detail.eventBody;
      const ev = normaliseEvent(doc);
      expect(ev.eventType).toBe(`conversation.${doc.detail.topicName.split('.').slice(5).join('.')}`);
      expect(ev.interactionId).toBe(body.conversationId);
      expect(ev.contactId).toBe(
        body.externalContactId ?? body.conversationExternalContactIds?.[0] ?? body.participantId,
      );
      expect(ev.userId).toBe(body.userId);
      expect(ev.timestamp).toBe(doc.detail.timestamp);
      expect(ev.correlationId).toBe(doc.detail.metadata.CorrelationId);
      expect(ev.metadata.mediaType).toBe(body.mediaType);

      // several samples share one CorrelationId, so each is sent on a fresh prefix's worth of id
      const fresh = JSON.parse(raw.toString('utf8'));
      fresh.detail.metadata.CorrelationId = `${doc.detail.metadata.CorrelationId}-${file}`;
      const res = await post(t.url, fresh);
      expect(res.status).toBe(202);
      const stored = await t.inspect.hget(
        `${t.prefix}:conversation-end:${toJobId(fresh.detail.metadata.CorrelationId)}`,
        'data',
      );
      const data = startJobSchema.parse(JSON.parse(stored as string));
      expect(data.inputs).toEqual({
        ConversationId: body.conversationId,
        ContactId: ev.contactId,
        MediaType: body.mediaType,
      });
      expect(data.eventType).toBe(ev.eventType);
      // ani, dnis and wrap-up notes are PII and unmapped: nowhere in the job
      expect(stored).not.toContain('tel:');
      expect(stored).not.toContain('address change');
    },
  );

  it('the bare notification (no EventBridge wrapper) maps the same way', async () => {
    const doc = JSON.parse(readFileSync(join(SAMPLES, 'eventbridge-acw-voice-synthetic.json'), 'utf8'));
    const bare = { ...doc.detail };
    delete bare.timestamp;
    const ev = normaliseEvent(bare);
    expect(ev.eventType).toBe('conversation.acw');
    expect(ev.timestamp).toBe(new Date(doc.detail.eventBody.eventTime).toISOString());
    expect(ev.correlationId).toBe(doc.detail.metadata.CorrelationId);
    bare.metadata = { CorrelationId: `bare-${Date.now()}` };
    expect((await post(t.url, bare)).status).toBe(202);
  });

  it('the audit-topic sample is no interaction: a clear 400 naming the missing fields', async () => {
    const res = await post(t.url, readFileSync(join(SAMPLES, 'eventbridge-audit-userpresence.json')));
    expect(res.status).toBe(400);
    expect((res.json.issues as { path: string }[]).map((i) => i.path)).toContain('detail.eventBody.conversationId');
    expect(JSON.stringify(res.json)).not.toContain('John Doe');
  });

  it('the trigger test body (a bare eventBody) is rejected with a clear 400', async () => {
    const res = await post(t.url, readFileSync(join(SAMPLES, 'processautomation-trigger-test-customer-end-body.json')));
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_payload');
  });
});
