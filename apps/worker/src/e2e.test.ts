import { randomUUID } from 'node:crypto';
import { toJobId } from '@rpa-bridge/core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver, testRoutes } from '../../../test/support/receiver.js';
import { startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';
import { eventually, startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import type { SimSettings } from '../../orchestrator-sim/src/state.js';

const ROUTES = testRoutes();

interface System {
  receiver: TestReceiver;
  sim: TestSimulator;
  worker: TestWorker;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function system(
  opts: {
    settings?: Partial<SimSettings>;
    backoff?: { baseMs: number; maxMs: number };
    receiverEnv?: Record<string, string>;
    worker?: Pick<Parameters<typeof startTestWorker>[0], 'orchestratorTimeoutMs' | 'ambiguousSettleMs'>;
  } = {},
): Promise<System> {
  const sim = await startTestSimulator({ routes: ROUTES, settings: { robots: 50, jobMs: 20, ...opts.settings } });
  open.push(() => sim.close());
  const receiver = await startTestReceiver({
    redisUrl: inject('redisUrl'),
    env: { JOB_ATTEMPTS: '5', ...opts.receiverEnv },
  });
  open.push(() => receiver.close());
  const workerOpts: Parameters<typeof startTestWorker>[0] = {
    redisUrl: inject('redisUrl'),
    prefix: receiver.prefix,
    routes: ROUTES,
    simUrl: sim.url,
    ...opts.worker,
  };
  if (opts.backoff) workerOpts.backoff = opts.backoff;
  const worker = await startTestWorker(workerOpts);
  open.push(() => worker.close());
  return { receiver, sim, worker };
}

const jobsFor = (s: System, ref: string) => s.sim.sim.state.jobs.filter((j) => j.Reference === ref);
const failedState = async (s: System, queue: string, correlationId: string) =>
  (await s.worker.running.queues.get(queue)?.getJob(toJobId(correlationId)))?.getState();

describe('receiver → Redis → worker → simulator', () => {
  it('500 events with 20 % redelivered duplicates make exactly 500 Orchestrator jobs with the right inputs and folder', async () => {
    const s = await system();
    const events = Array.from({ length: 500 }, (_, i) => flatEvent({ contactId: `contact-${i}` }));
    const deliveries = [...events, ...events.slice(0, 100)].sort(() => Math.random() - 0.5);
    const statuses: number[] = [];
    for (let i = 0; i < deliveries.length; i += 25) {
      const batch = await Promise.all(deliveries.slice(i, i + 25).map((ev) => post(s.receiver.url, ev)));
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.filter((x) => x === 202)).toHaveLength(500);
    expect(statuses.filter((x) => x === 200)).toHaveLength(100);
    await eventually(() => s.sim.sim.state.jobs.length >= 500, 60_000, '500 jobs');
    await eventually(
      async () => (await s.worker.running.queues.get('billing-account-update')?.getCompletedCount()) === 500,
      30_000,
      'all completed',
    );
    const jobs = s.sim.sim.state.jobs;
    expect(jobs).toHaveLength(500);
    expect(new Set(jobs.map((j) => j.Reference)).size).toBe(500);
    const folder = s.sim.sim.state.folders.find((f) => f.FullyQualifiedName === 'Shared/BackOffice');
    for (const ev of events) {
      const [job] = jobsFor(s, ev.correlationId as string);
      expect(job?.OrganizationUnitId).toBe(folder?.Id);
      expect(JSON.parse(job?.InputArguments ?? '{}')).toEqual({
        ContactId: ev.contactId,
        CorrelationId: ev.correlationId,
        triggerReason: 'account_update',
        requestTimestamp: new Date(ev.timestamp as string).toISOString(),
      });
    }
  });

  it('accept-then-fail and accept-then-reset duplicate nothing (the retry looks the Reference up)', async () => {
    const s = await system();
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-fail', status: 502, times: 5 });
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-reset', times: 5 });
    const events = Array.from({ length: 20 }, () => flatEvent());
    for (const ev of events) expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(
      async () => (await s.worker.running.queues.get('billing-account-update')?.getCompletedCount()) === 20,
      30_000,
      'completed',
    );
    expect(s.sim.sim.faults.list().every((f) => f.hits === f.times)).toBe(true);
    for (const ev of events) expect(jobsFor(s, ev.correlationId as string)).toHaveLength(1);
    expect(s.sim.sim.state.stats.requests.findJobs).toBeGreaterThanOrEqual(10);
    const trail = await s.receiver.receiver.audit.read(events[0]?.correlationId as string);
    expect(trail.map((e) => e.type)).toContain('started');
  });

  it('a start answered after the client gave up is found by the retry, which waits AMBIGUOUS_SETTLE_MS before looking', async () => {
    // The request lands at Orchestrator 2 s after it was sent; the client gives up after 0.3 s.
    const slow = { operation: 'startJobs', mode: 'delay', delayMs: 2000, times: 1 } as const;
    const settled = await system({ worker: { orchestratorTimeoutMs: 300, ambiguousSettleMs: 3000 } });
    settled.sim.sim.faults.add(slow);
    const ev = flatEvent();
    expect((await post(settled.receiver.url, ev)).status).toBe(202);
    const queue = settled.worker.running.queues.get('billing-account-update');
    await eventually(async () => (await queue?.getCompletedCount()) === 1, 15_000, 'completed');
    expect(jobsFor(settled, ev.correlationId as string)).toHaveLength(1);
    const trail = await settled.receiver.receiver.audit.read(ev.correlationId as string);
    expect(trail.find((e) => e.type === 'started')).toMatchObject({
      reason: 'found by Reference after an ambiguous attempt',
    });
  });

  it('without the settle delay the same slow start is looked up too early and runs twice (why the delay exists)', async () => {
    const s = await system({ worker: { orchestratorTimeoutMs: 300, ambiguousSettleMs: 0 } });
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'delay', delayMs: 2000, times: 1 });
    const ev = flatEvent();
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(() => jobsFor(s, ev.correlationId as string).length === 2, 15_000, 'the late start landing');
  });

  it('a queue target: duplicate Reference after accept-then-fail counts as done, sealed inputs arrive decrypted', async () => {
    const s = await system();
    s.sim.sim.faults.add({ operation: 'addQueueItem', mode: 'accept-then-fail', status: 500, times: 1 });
    const ev = flatEvent({ metadata: { taskType: 'refund', note: 'refund 20 EUR' } });
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(
      async () => (await s.worker.running.queues.get('refunds')?.getCompletedCount()) === 1,
      15_000,
      'completed',
    );
    const items = s.sim.sim.state.queueItems.filter((i) => i.Reference === ev.correlationId);
    expect(items).toHaveLength(1);
    expect(items[0]?.SpecificContent).toEqual({ ContactId: ev.contactId, CaseNote: 'refund 20 EUR' });
  });

  it('a 400 from Orchestrator dead-letters after one attempt, with a readable reason', async () => {
    const s = await system();
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 400, times: 1 });
    const ev = flatEvent();
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    const q = s.worker.running.queues.get('billing-account-update');
    await eventually(
      async () => (await failedState(s, 'billing-account-update', ev.correlationId as string)) === 'failed',
      15_000,
      'failed',
    );
    const job = await q?.getJob(toJobId(ev.correlationId as string));
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/^startJob 400 errorCode=1000 traceId=00-[0-9a-f-]+: Invalid request!$/);
    expect(jobsFor(s, ev.correlationId as string)).toHaveLength(0);
    const trail = (await s.receiver.receiver.audit.read(ev.correlationId as string)).map((e) => e.type);
    expect(trail).toEqual(['received', 'enqueued', 'dead-lettered']);
    // a redelivery of a dead-lettered event is a duplicate, not a second job
    expect((await post(s.receiver.url, ev)).status).toBe(200);
  });

  it('429 with Retry-After delays the retry at least that long, without using up attempts', async () => {
    const s = await system();
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 429, retryAfter: 1, times: 1 });
    const ev = flatEvent();
    const sent = Date.now();
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(() => jobsFor(s, ev.correlationId as string).length === 1, 15_000, 'started');
    const [job] = jobsFor(s, ev.correlationId as string);
    expect(Date.parse(job?.CreationTime as string) - sent).toBeGreaterThanOrEqual(1000);
    const bull = await s.worker.running.queues
      .get('billing-account-update')
      ?.getJob(toJobId(ev.correlationId as string));
    await eventually(async () => (await bull?.getState()) === 'completed', 5000, 'completed');
    expect(
      (await s.worker.running.queues.get('billing-account-update')?.getJob(toJobId(ev.correlationId as string)))
        ?.attemptsMade,
    ).toBe(1);
  });

  it('exhausted retries dead-letter; redrive (dry run first) starts exactly one job', async () => {
    const s = await system({ backoff: { baseMs: 20, maxMs: 50 }, receiverEnv: { JOB_ATTEMPTS: '3' } });
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-fail', status: 503, times: 1 });
    s.sim.sim.faults.add({ operation: 'findJobs', mode: 'reject', status: 500, times: -1 });
    const ev = flatEvent();
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(
      async () => (await failedState(s, 'billing-account-update', ev.correlationId as string)) === 'failed',
      15_000,
      'dead-lettered',
    );
    expect(jobsFor(s, ev.correlationId as string)).toHaveLength(1); // accepted before the 503
    s.sim.sim.faults.clear();
    const adminPost = (body: unknown) =>
      fetch(`${s.receiver.url}/v1/dead-letters/redrive`, {
        method: 'POST',
        headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await adminPost({})).status).toBe(400);
    const dry = (await (await adminPost({ reason: 'findJobs 500', dryRun: true })).json()) as {
      matched: { correlationId: string }[];
      redriven: number;
    };
    expect(dry.redriven).toBe(0);
    expect(dry.matched.map((m) => m.correlationId)).toEqual([ev.correlationId]);
    const real = (await (await adminPost({ correlationId: ev.correlationId })).json()) as { redriven: number };
    expect(real.redriven).toBe(1);
    await eventually(
      async () => (await failedState(s, 'billing-account-update', ev.correlationId as string)) === 'completed',
      15_000,
      'redriven job completed',
    );
    expect(jobsFor(s, ev.correlationId as string)).toHaveLength(1); // found by Reference, not started again
    const trail = (await s.receiver.receiver.audit.read(ev.correlationId as string)).map((e) => e.type);
    expect(trail).toEqual(expect.arrayContaining(['retried', 'dead-lettered', 'redriven', 'started']));
  });

  it('redrive of a job that never reached Orchestrator starts exactly one job', async () => {
    const s = await system();
    s.sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 404, times: 1 });
    const ev = flatEvent({ correlationId: `redrive-${randomUUID()}` });
    expect((await post(s.receiver.url, ev)).status).toBe(202);
    await eventually(
      async () => (await failedState(s, 'billing-account-update', ev.correlationId as string)) === 'failed',
      15_000,
      'failed',
    );
    const res = await fetch(`${s.receiver.url}/v1/dead-letters/redrive`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'billing-account-update' }),
    });
    expect(((await res.json()) as { redriven: number }).redriven).toBe(1);
    await eventually(() => jobsFor(s, ev.correlationId as string).length === 1, 15_000, 'started');
    await eventually(
      async () => (await failedState(s, 'billing-account-update', ev.correlationId as string)) === 'completed',
      5000,
      'completed',
    );
    expect(jobsFor(s, ev.correlationId as string)).toHaveLength(1);
  });

  it('TRACK_COMPLETION records the robot outcome in the audit trail', async () => {
    const sim = await startTestSimulator({ routes: ROUTES, settings: { robots: 2, jobMs: 100 } });
    open.push(() => sim.close());
    const receiver = await startTestReceiver({ redisUrl: inject('redisUrl') });
    open.push(() => receiver.close());
    const worker = await startTestWorker({
      redisUrl: inject('redisUrl'),
      prefix: receiver.prefix,
      routes: ROUTES,
      simUrl: sim.url,
      trackCompletion: true,
    });
    open.push(() => worker.close());
    sim.sim.state.forcedOutcomes.push('Faulted');
    const [a, b] = [flatEvent(), flatEvent()];
    await post(receiver.url, a);
    await eventually(
      async () => (await receiver.receiver.audit.read(a.correlationId as string)).some((e) => e.type === 'failed'),
      15_000,
      'faulted recorded',
    );
    await post(receiver.url, b);
    await eventually(
      async () => (await receiver.receiver.audit.read(b.correlationId as string)).some((e) => e.type === 'succeeded'),
      15_000,
      'success recorded',
    );
    const trail = await receiver.receiver.audit.read(a.correlationId as string);
    expect(trail.find((e) => e.type === 'failed')).toMatchObject({
      state: 'Faulted',
      orchestratorJobId: expect.any(Number),
    });
  });

  it('an SLA breach is a warning log naming the correlationId and a counter', async () => {
    const s = await system();
    const late = flatEvent({ timestamp: new Date(Date.now() - 120_000).toISOString() });
    expect((await post(s.receiver.url, late)).status).toBe(202);
    await eventually(() => jobsFor(s, late.correlationId as string).length === 1, 15_000, 'started');
    await eventually(() => s.worker.logs.some((l) => l.includes('SLA breached')), 5000, 'SLA log');
    const line = JSON.parse(s.worker.logs.find((l) => l.includes('SLA breached')) as string);
    expect(line).toMatchObject({
      level: 40,
      correlationId: late.correlationId,
      route: 'billing-account-update',
      slaSeconds: 30,
    });
    expect(line.seconds).toBeGreaterThanOrEqual(120);
    const breaches = await s.worker.metrics.registry.getSingleMetricAsString('rpa_worker_sla_breaches_total');
    expect(breaches).toContain('rpa_worker_sla_breaches_total{route="billing-account-update"} 1');
  });
});
