import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { SIM_CLIENT, startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';
import { createOrchestratorClient, type OrchestratorClientOptions } from './client.js';
import { OrchestratorError } from './errors.js';

const FOLDER = { path: 'Shared/BackOffice' };

async function rejection(p: Promise<unknown>): Promise<OrchestratorError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OrchestratorError) return err;
    throw err;
  }
  throw new Error('expected an OrchestratorError');
}

describe('Orchestrator client against the simulator (real HTTP)', () => {
  let s: TestSimulator;
  const clients: { close(): Promise<void> }[] = [];
  let refreshes = 0;

  const client = (extra: Partial<OrchestratorClientOptions> = {}) => {
    const c = createOrchestratorClient({
      baseUrl: `${s.url}/acme/DefaultTenant/orchestrator_`,
      tokenUrl: `${s.url}/acme/identity_/connect/token`,
      ...SIM_CLIENT,
      timeoutMs: 2000,
      onTokenRefresh: () => {
        refreshes++;
      },
      ...extra,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    s = await startTestSimulator();
    s.sim.seed({
      processes: [{ processKey: 'BackOfficeAccountUpdate', folder: FOLDER }],
      queues: [{ name: 'ContactCenterInbound', folder: { key: '6a1c3f0e-2b5d-4e8f-9a7c-1d2e3f4a5b6c' } }],
      folders: [{ id: 515116, path: 'Shared/Ünïcode Folder' }],
    });
  });
  afterEach(async () => {
    s.sim.faults.clear();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => s.close());

  it('starts a job with Reference and InputArguments as a JSON string', async () => {
    const c = client();
    const ref = `ref-${randomUUID()}`;
    const job = await c.startJob({
      folder: FOLDER,
      processKey: 'BackOfficeAccountUpdate',
      inputArguments: { ContactId: 'c-1' },
      reference: ref,
      priority: 'High',
    });
    expect(job).toMatchObject({ State: 'Pending', Reference: ref, JobPriority: 'High' });
    const stored = s.sim.state.jobs.find((j) => j.Id === job.Id);
    expect(stored?.InputArguments).toBe('{"ContactId":"c-1"}');
    const fetched = await c.getJob(job.Id, FOLDER);
    expect(fetched.Id).toBe(job.Id);
    const found = await c.findJobsByReference(ref, FOLDER);
    expect(found.map((j) => j.Id)).toEqual([job.Id]);
  });

  it('token expiry mid-run with 50 concurrent calls makes exactly one token request', async () => {
    const c = client();
    await c.resolveReleaseKey('BackOfficeAccountUpdate', FOLDER);
    const before = s.sim.state.stats.tokenRequests;
    s.sim.state.expireTokens(); // every cached token is now rejected with 401
    const jobs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.startJob({
          folder: FOLDER,
          processKey: 'BackOfficeAccountUpdate',
          inputArguments: { i },
          reference: `tok-${randomUUID()}`,
        }),
      ),
    );
    expect(new Set(jobs.map((j) => j.Id)).size).toBe(50);
    expect(s.sim.state.stats.tokenRequests - before).toBe(1);
  });

  it('refreshes before expiry (skew) without a 401, and answers 401 -> refresh -> retry once', async () => {
    await s.sim.app.request('/__sim/settings', { method: 'POST', body: JSON.stringify({ tokenTtlSeconds: 2 }) });
    try {
      let now = Date.now();
      const c = client({ now: () => now });
      await c.getJob(-1, FOLDER).catch(() => {});
      const first = s.sim.state.stats.tokenRequests;
      now += 1900; // inside the 10 % skew of a 2 s token
      await c.findJobsByReference('none', FOLDER);
      expect(s.sim.state.stats.tokenRequests).toBe(first + 1);
      s.sim.state.expireTokens();
      const r = refreshes;
      expect(await c.findJobsByReference('none', FOLDER)).toEqual([]);
      expect(refreshes).toBe(r + 1);
    } finally {
      s.sim.state.settings.tokenTtlSeconds = 3600;
    }
  });

  it('429 with Retry-After is retryable with that delay; the request was not processed', async () => {
    const c = client();
    const ref = `r429-${randomUUID()}`;
    s.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 429, retryAfter: 7 });
    const err = await rejection(
      c.startJob({ folder: FOLDER, processKey: 'BackOfficeAccountUpdate', inputArguments: {}, reference: ref }),
    );
    expect(err).toMatchObject({ kind: 'retryable', status: 429, retryAfterMs: 7000, operation: 'startJob' });
    expect(s.sim.state.jobs.filter((j) => j.Reference === ref)).toHaveLength(0);
  });

  it('accept-then-fail (500 after the job exists) is ambiguous, and findJobsByReference finds the job', async () => {
    const c = client();
    const ref = `atf-${randomUUID()}`;
    s.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-fail', status: 500 });
    const err = await rejection(
      c.startJob({ folder: FOLDER, processKey: 'BackOfficeAccountUpdate', inputArguments: {}, reference: ref }),
    );
    expect(err).toMatchObject({ kind: 'ambiguous', status: 500 });
    const found = await c.findJobsByReference(ref, FOLDER);
    expect(found).toHaveLength(1);
    expect(found[0]?.Reference).toBe(ref);
  });

  it('a reset after accepting, and a response slower than the timeout, are ambiguous', async () => {
    const c = client({ timeoutMs: 300 });
    const ref1 = `atr-${randomUUID()}`;
    s.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-reset' });
    expect(
      await rejection(
        c.startJob({ folder: FOLDER, processKey: 'BackOfficeAccountUpdate', inputArguments: {}, reference: ref1 }),
      ),
    ).toMatchObject({
      kind: 'ambiguous',
      status: undefined,
    });
    expect(await c.findJobsByReference(ref1, FOLDER)).toHaveLength(1);
    const ref2 = `slow-${randomUUID()}`;
    s.sim.faults.add({ operation: 'startJobs', mode: 'delay', delayMs: 800 });
    const slow = await rejection(
      c.startJob({ folder: FOLDER, processKey: 'BackOfficeAccountUpdate', inputArguments: {}, reference: ref2 }),
    );
    expect(slow.kind).toBe('ambiguous');
    expect(slow.message).toMatch(/no answer within 300 ms/);
  });

  it('a connection refused before sending is retryable, not ambiguous', async () => {
    const c = createOrchestratorClient({
      baseUrl: 'http://127.0.0.1:1',
      tokenUrl: `${s.url}/identity_/connect/token`,
      ...SIM_CLIENT,
    });
    clients.push(c);
    const err = await rejection(
      c.startJob({ folder: FOLDER, processKey: 'BackOfficeAccountUpdate', inputArguments: {}, reference: 'x' }),
    );
    expect(err.kind).toBe('retryable');
  });

  it('a duplicate queue Reference (errorCode 1016) is success, reported as a duplicate', async () => {
    const c = client();
    const folder = { key: '6a1c3f0e-2b5d-4e8f-9a7c-1d2e3f4a5b6c' };
    const ref = `q-${randomUUID()}`;
    const first = await c.addQueueItem({
      folder,
      queueName: 'ContactCenterInbound',
      specificContent: { A: 1 },
      reference: ref,
    });
    expect(first.duplicate).toBe(false);
    const again = await c.addQueueItem({
      folder,
      queueName: 'contactcenterinbound',
      specificContent: { A: 1 },
      reference: ref,
    });
    expect(again).toEqual({ duplicate: true, message: 'Error creating Transaction. Duplicate Reference.' });
    expect(await c.findQueueItemsByReference(ref, folder)).toHaveLength(1);
  });

  it('folder errors are permanent and carry the Orchestrator message, code and traceId', async () => {
    const c = client();
    const unknown = await rejection(c.resolveReleaseKey('BackOfficeAccountUpdate', { path: 'No/Such/Folder' }));
    expect(unknown).toMatchObject({ kind: 'permanent', status: 400, errorCode: 1100 });
    expect(unknown.message).toBe('Folder does not exist or the user does not have access to the folder.');
    expect(unknown.traceId).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0\d$/);
    expect(unknown.describe()).toContain('releases 400 errorCode=1100 traceId=00-');
    const missing = await rejection(c.resolveReleaseKey('BackOfficeAccountUpdate', { path: '' }));
    expect(missing).toMatchObject({ kind: 'permanent', errorCode: 1100 });
  });

  it('sends non-ASCII folder paths encoded (base64 UTF-16LE) and folder ids as OrganizationUnitId', async () => {
    const c = client();
    s.sim.seed({ processes: [{ processKey: 'Intl', folder: { path: 'Shared/Ünïcode Folder' } }] });
    expect(await c.resolveReleaseKey('Intl', { path: 'Shared/Ünïcode Folder' })).toMatch(/^[0-9a-f-]{36}$/);
    expect(await c.resolveReleaseKey('Intl', { id: 515116 })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown process, an over-long Reference or InputArguments are permanent before any start', async () => {
    const c = client();
    const count = s.sim.state.jobs.length;
    expect(
      await rejection(c.startJob({ folder: FOLDER, processKey: 'Nope', inputArguments: {}, reference: 'r' })),
    ).toMatchObject({ kind: 'permanent' });
    expect(
      await rejection(
        c.startJob({
          folder: FOLDER,
          processKey: 'BackOfficeAccountUpdate',
          inputArguments: {},
          reference: 'r'.repeat(129),
        }),
      ),
    ).toMatchObject({ kind: 'permanent' });
    const big = await rejection(
      c.startJob({
        folder: FOLDER,
        processKey: 'BackOfficeAccountUpdate',
        inputArguments: { x: 'y'.repeat(10_000) },
        reference: 'r',
      }),
    );
    expect(big.message).toMatch(/allows 10000/);
    expect(s.sim.state.jobs.length).toBe(count);
  });

  it('a wrong client secret is a permanent token error', async () => {
    const c = client({ clientSecret: 'wrong' });
    expect(await rejection(c.getJob(1, FOLDER))).toMatchObject({ kind: 'permanent', operation: 'token', status: 400 });
  });

  it('paces collection queries through a token bucket shared in Redis', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const key = `{t-${randomUUID().slice(0, 8)}}:pacing`;
      const a = client({ redis, pacingKey: key, collectionQueriesPerMinute: 60, maxPacingWaitMs: 0 });
      const b = client({ redis, pacingKey: key, collectionQueriesPerMinute: 60, maxPacingWaitMs: 0 });
      // burst = 6: the two clients together get six, then the seventh is refused without a request
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).findJobsByReference('p', FOLDER)),
      );
      const refused = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason as OrchestratorError);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6);
      expect(refused).toHaveLength(2);
      for (const e of refused) expect(e).toMatchObject({ kind: 'retryable', operation: 'findJobs' });
      expect(refused[0]?.retryAfterMs).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('the simulator rate-limits collection queries with 429, reported as retryable', async () => {
    await s.sim.app.request('/__sim/settings', {
      method: 'POST',
      body: JSON.stringify({ collectionLimitPerMinute: 2, rateLimitRetryAfterSeconds: 30 }),
    });
    await s.sim.app.request('/__sim/reset', { method: 'POST' });
    try {
      const c = client();
      await c.findJobsByReference('a', FOLDER);
      await c.findJobsByReference('b', FOLDER);
      expect(await rejection(c.findJobsByReference('c', FOLDER))).toMatchObject({
        kind: 'retryable',
        status: 429,
        retryAfterMs: 30_000,
      });
      expect((await c.getJob(-5, FOLDER).catch((e: OrchestratorError) => e)).status).toBe(404); // by id is not limited
    } finally {
      Object.assign(s.sim.state.settings, { collectionLimitPerMinute: 10_000, rateLimitRetryAfterSeconds: 0 });
    }
  });
});
