import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { toJobId } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  flatEvent,
  post,
  startTestReceiver,
  type TestReceiver,
  testRoutes,
  writeTestRoutesFile,
} from '../../../test/support/receiver.js';
import { startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';
import { eventually, startTestWorker, type TestWorker } from '../../../test/support/worker.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('pnpm redrive (CLI)', () => {
  let receiver: TestReceiver;
  let sim: TestSimulator;
  let worker: TestWorker;
  let routesFile: string;
  beforeAll(async () => {
    sim = await startTestSimulator({ routes: testRoutes() });
    receiver = await startTestReceiver({ redisUrl: inject('redisUrl') });
    worker = await startTestWorker({
      redisUrl: inject('redisUrl'),
      prefix: receiver.prefix,
      routes: testRoutes(),
      simUrl: sim.url,
    });
    routesFile = writeTestRoutesFile();
  });
  afterAll(async () => {
    await worker.close();
    await receiver.close();
    await sim.close();
  });

  const cli = (...args: string[]) => {
    const r = spawnSync('node', ['--conditions=source', '--import', 'tsx', 'apps/worker/src/redrive-cli.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: receiver.prefix, ROUTES_FILE: routesFile },
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };

  it('lists with --dry-run, then redrives by reason; the job starts exactly once', async () => {
    sim.sim.faults.add({ operation: 'startJobs', mode: 'reject', status: 403, times: 1 });
    const ev = flatEvent();
    expect((await post(receiver.url, ev)).status).toBe(202);
    const queue = worker.running.queues.get('billing-account-update');
    await eventually(
      async () => (await queue?.getJob(toJobId(ev.correlationId as string)))?.isFailed() ?? false,
      15_000,
      'dead letter',
    );
    expect(cli().status).toBe(2); // no filter, no --all
    const dry = cli('--reason', 'startJob 403', '--dry-run');
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({
      dryRun: true,
      redriven: 0,
      matched: [{ correlationId: ev.correlationId, route: 'billing-account-update' }],
    });
    const real = cli('--reason', 'startJob 403');
    expect(JSON.parse(real.out)).toMatchObject({ dryRun: false, redriven: 1 });
    await eventually(() => sim.sim.state.jobs.some((j) => j.Reference === ev.correlationId), 15_000, 'started');
    await eventually(
      async () => (await (await queue?.getJob(toJobId(ev.correlationId as string)))?.getState()) === 'completed',
      5000,
      'completed',
    );
    expect(sim.sim.state.jobs.filter((j) => j.Reference === ev.correlationId)).toHaveLength(1);
  });
});
