import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJobId } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver, testRoutes } from '../support/receiver.js';
import { dumpRedis } from '../support/redis-dump.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';
import { eventually, startTestWorker, type TestWorker } from '../support/worker.js';

/** Canaries unique to this file (other suites share the Redis). */
const CARD = '4916 3387 2145 0053'; // Luhn-valid
const SSN = '219-09-9999';
const NAME = 'Philippa Canarywhistle';
const EMAIL = 'philippa.canarywhistle@example.net';
const CANARIES = [CARD, CARD.replace(/ /g, ''), SSN, NAME, 'Canarywhistle', EMAIL];
const PII = {
  customerName: NAME,
  cardNumber: CARD,
  ssn: SSN,
  email: EMAIL,
  notes: `${NAME} <${EMAIL}> paid with ${CARD}, SSN ${SSN}`,
};

describe('PII leak scan over the whole flow, failures and dead letters included', () => {
  let receiver: TestReceiver;
  let sim: TestSimulator;
  let worker: TestWorker;
  const ids: string[] = [];

  beforeAll(async () => {
    sim = await startTestSimulator({ routes: testRoutes() });
    receiver = await startTestReceiver({ redisUrl: inject('redisUrl') });
    worker = await startTestWorker({
      redisUrl: inject('redisUrl'),
      prefix: receiver.prefix,
      routes: testRoutes(),
      simUrl: sim.url,
      backoff: { baseMs: 20, maxMs: 50 },
    });
    // one permanent failure (dead letter), retried failures, then success
    sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 400, times: 1 });
    sim.sim.faults.add({ operation: 'startJobs', mode: 'accept-then-fail', status: 500, times: 2 });
    const samples = JSON.parse(
      readFileSync(join(import.meta.dirname, '../fixtures/genesys/eventbridge-acw-voice-synthetic.json'), 'utf8'),
    );
    const bodies: Record<string, unknown>[] = [
      flatEvent({ ...PII, metadata: { taskType: 'account_update', ...PII } }),
      flatEvent({ metadata: { taskType: 'account_update', ...PII } }),
      flatEvent({ metadata: { taskType: 'account_update', ...PII } }),
      flatEvent({ metadata: { taskType: 'refund', note: PII.notes, ...PII } }), // mapped on purpose, sealed
      flatEvent({ metadata: { taskType: 'unrouted', ...PII } }), // 422
      flatEvent({ contactId: 42, metadata: PII }), // 400
    ];
    samples.detail.metadata.CorrelationId = `pii-flow-${Date.now()}`;
    Object.assign(samples.detail.eventBody, PII, { wrapupNotes: PII.notes });
    bodies.push(samples);
    for (const b of bodies) {
      const res = await post(receiver.url, b);
      if (res.json.correlationId) ids.push(res.json.correlationId as string);
    }
    await eventually(
      async () => {
        const counts = await Promise.all(
          [...worker.running.queues.values()].map((q) => q.getJobCounts('waiting', 'active', 'delayed')),
        );
        return counts.every((c) => c.waiting === 0 && c.active === 0 && c.delayed === 0);
      },
      20_000,
      'all settled',
    );
  });
  afterAll(async () => {
    await worker.close();
    await receiver.close();
    await sim.close();
  });

  it('finds no canary in Redis, in any log line, in Bull Board API responses or in audit records', async () => {
    const q = worker.running.queues.get('billing-account-update');
    expect(await q?.getFailedCount()).toBe(1); // the dead letter exists and is part of the scan
    const auth = { authorization: 'Bearer admin-token' };
    const board: string[] = [];
    for (const name of ['billing-account-update', 'refunds', 'conversation-end']) {
      for (const status of ['latest', 'failed', 'completed', 'waiting', 'delayed']) {
        const res = await fetch(`${receiver.url}/admin/queues/api/queues?activeQueue=${name}&status=${status}&page=1`, {
          headers: auth,
        });
        expect(res.status).toBe(200);
        board.push(await res.text());
      }
    }
    for (const id of ids) {
      const job = await fetch(`${receiver.url}/admin/queues/api/queues/billing-account-update/${toJobId(id)}`, {
        headers: auth,
      });
      board.push(await job.text());
    }
    const audits = await Promise.all(
      ids.map(async (id) =>
        (await fetch(`${receiver.url}/v1/transactions/${encodeURIComponent(id)}`, { headers: auth })).text(),
      ),
    );
    const operator = await Promise.all(
      ids.map(async (id) =>
        (
          await fetch(`${receiver.url}/admin/transactions?correlationId=${encodeURIComponent(id)}`, { headers: auth })
        ).text(),
      ),
    );
    const surfaces: Record<string, string> = {
      redis: await dumpRedis(receiver.inspect),
      'receiver logs': receiver.logs.join('\n'),
      'worker logs': worker.logs.join('\n'),
      'Bull Board API': board.join('\n'),
      'audit records': audits.join('\n'),
      'operator page': operator.join('\n'),
    };
    // the scan sees real data: the dead letter's reason and the sealed input are there
    expect(surfaces['Bull Board API']).toContain('Invalid request!');
    expect(surfaces.redis).toContain('enc:v1:');
    expect(surfaces['audit records']).toContain('dead-lettered');
    expect(surfaces['worker logs']).toContain('dead-lettered');
    for (const [where, text] of Object.entries(surfaces)) {
      for (const canary of CANARIES) expect(text.includes(canary), `${where} holds ${canary}`).toBe(false);
    }
    // only the simulator (Orchestrator) received the note, decrypted, because the route maps it on purpose
    expect(JSON.stringify(sim.sim.state.queueItems)).toContain(NAME);
  });
});
