import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver } from '../../../../test/support/receiver.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('admin surfaces', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({
      redisUrl: inject('redisUrl'),
      env: { ADMIN_TOKEN: 'tok', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'pw' },
    });
  });
  afterAll(() => t.close());

  it('the audit API needs admin credentials and shows the transaction timeline', async () => {
    const ev = flatEvent({ correlationId: `audit:${Date.now()}` });
    await post(t.url, ev);
    await post(t.url, ev);
    const path = `${t.url}/v1/transactions/${encodeURIComponent(ev.correlationId as string)}`;
    expect((await fetch(path)).status).toBe(401);
    expect((await fetch(path, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(path, { headers: { authorization: basic('ops', 'nope') } })).status).toBe(401);
    const res = await fetch(path, { headers: { authorization: basic('ops', 'pw') } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      correlationId: string;
      entries: { type: string; route: string; at: string }[];
    };
    expect(body.correlationId).toBe(ev.correlationId);
    expect(body.entries.map((e) => e.type)).toEqual(['received', 'enqueued', 'received', 'duplicate']);
    expect(body.entries[1]?.route).toBe('billing-account-update');
    expect(Date.parse(body.entries[0]?.at as string)).not.toBeNaN();
    const unknown = await fetch(`${t.url}/v1/transactions/never-seen`, { headers: { authorization: 'Bearer tok' } });
    expect(unknown.status).toBe(404);
  });

  it('Bull Board is served behind auth, and refuses cross-origin actions', async () => {
    expect((await fetch(`${t.url}/admin/queues`)).status).toBe(401);
    const page = await fetch(`${t.url}/admin/queues`, { headers: { authorization: 'Bearer tok' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const api = await fetch(`${t.url}/admin/queues/api/queues`, { headers: { authorization: 'Bearer tok' } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['billing-account-update', 'conversation-end', 'refunds']);
    const csrf = await fetch(`${t.url}/admin/queues/api/queues/refunds/pause`, {
      method: 'PUT',
      headers: { authorization: 'Bearer tok', origin: 'https://evil.example' },
    });
    expect(csrf.status).toBe(403);
    expect((await fetch(`${t.url}/admin/queues/api/queues/refunds/pause`, { method: 'PUT' })).status).toBe(401);
    // the same action with credentials and from the board's own origin works
    const sameOrigin = await fetch(`${t.url}/admin/queues/api/queues/refunds/pause`, {
      method: 'PUT',
      headers: { authorization: 'Bearer tok', origin: t.url },
    });
    expect(sameOrigin.status).toBeLessThan(300);
    expect(await t.receiver.enqueuer.queues.get('refunds')?.isPaused()).toBe(true);
    await fetch(`${t.url}/admin/queues/api/queues/refunds/resume`, {
      method: 'PUT',
      headers: { authorization: 'Bearer tok' },
    });
    expect(await t.receiver.enqueuer.queues.get('refunds')?.isPaused()).toBe(false);
  });

  it('health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${t.url}/readyz`)).json()).toMatchObject({ status: 'ready' });
    await post(t.url, flatEvent());
    await post(t.url, flatEvent({ metadata: { taskType: 'nothing' } }));
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(
      /rpa_receiver_requests_total\{status="202",outcome="accepted",route="billing-account-update"\} \d+/,
    );
    expect(text).toMatch(/rpa_receiver_requests_total\{status="422",outcome="no_route",route=""\} \d+/);
    expect(text).toMatch(/rpa_receiver_enqueue_duration_seconds_count\{outcome="accepted"\} \d+/);
    expect(text).toMatch(/rpa_queue_jobs\{queue="billing-account-update",state="waiting"\} [1-9]\d*/);
  });
});

describe('admin surfaces with no admin credential configured', () => {
  it('are disabled, never open', async () => {
    const t = await startTestReceiver({ redisUrl: inject('redisUrl'), env: { ADMIN_TOKEN: '' } });
    try {
      for (const path of ['/admin/queues', '/admin/queues/api/queues', '/v1/transactions/x']) {
        const res = await fetch(`${t.url}${path}`, { headers: { authorization: 'Bearer anything' } });
        expect(res.status, path).toBe(404);
      }
    } finally {
      await t.close();
    }
  });
});
