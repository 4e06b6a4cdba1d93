import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ENCRYPTION_KEY,
  flatEvent,
  post,
  startTestReceiver,
  type TestReceiver,
  testRoutes,
  writeTestRoutesFile,
} from '../../../test/support/receiver.js';
import { SIM_CLIENT, startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';
import { eventually } from '../../../test/support/worker.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('worker processes: SIGKILL and SIGTERM lose and duplicate nothing', () => {
  let receiver: TestReceiver;
  let sim: TestSimulator;
  let routesFile: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    sim = await startTestSimulator({ routes: testRoutes(), settings: { robots: 100, jobMs: 10 } });
    receiver = await startTestReceiver({ redisUrl: inject('redisUrl') });
    routesFile = writeTestRoutesFile();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await receiver.close();
    await sim.close();
  });

  function spawnWorker(): ChildProcess {
    const child = spawn('node', ['--conditions=source', '--import', 'tsx', 'apps/worker/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: receiver.prefix,
        ROUTES_FILE: routesFile,
        UIPATH_BASE_URL: `${sim.url}/acme/DefaultTenant/orchestrator_`,
        UIPATH_CLIENT_ID: SIM_CLIENT.clientId,
        UIPATH_CLIENT_SECRET: SIM_CLIENT.clientSecret,
        ENCRYPTION_KEY,
        WORKER_LOCK_MS: '1000',
        WORKER_METRICS_PORT: '0',
        BACKOFF_BASE_MS: '50',
        BACKOFF_MAX_MS: '500',
        ORCHESTRATOR_TIMEOUT_MS: '2000',
        // Longer than these tests may take: a start left ambiguous by a crash or shutdown would show.
        AMBIGUOUS_SETTLE_MS: '60000',
        ORCHESTRATOR_COLLECTION_LIMIT: '6000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  const completed = () =>
    receiver.receiver.enqueuer.queues.get('billing-account-update')?.getCompletedCount() ?? Promise.resolve(0);

  it('a worker killed with SIGKILL mid-start, then two workers: every event started exactly once', async () => {
    sim.sim.faults.add({ operation: 'startJobs', mode: 'delay', delayMs: 150, times: -1 }); // keep starts in flight
    const a = spawnWorker();
    const events = Array.from({ length: 200 }, () => flatEvent());
    const sending = (async () => {
      for (let i = 0; i < events.length; i += 10) {
        const res = await Promise.all(events.slice(i, i + 10).map((ev) => post(receiver.url, ev)));
        for (const r of res) expect(r.status).toBe(202);
      }
    })();
    // kill while a start request is in flight: the simulator has it (delayed) but has not answered
    await eventually(
      () => (sim.sim.state.stats.requests.startJobs ?? 0) > sim.sim.state.jobs.length && sim.sim.state.jobs.length > 5,
      30_000,
      'a start in flight',
    );
    a.kill('SIGKILL');
    await once(a, 'exit');
    const b = spawnWorker();
    const c = spawnWorker();
    await sending;
    await eventually(async () => (await completed()) === 200, 90_000, 'all 200 completed');
    sim.sim.faults.clear();
    const refs = sim.sim.state.jobs.map((j) => j.Reference);
    expect(refs).toHaveLength(200);
    expect(new Set(refs).size).toBe(200);
    for (const ev of events) expect(refs).toContain(ev.correlationId);
    // the killed worker's in-flight start was re-run and looked up by Reference, not started again
    expect(sim.sim.state.stats.requests.findJobs ?? 0).toBeGreaterThan(0);
    for (const w of [b, c]) {
      w.kill('SIGTERM');
      const [code] = await once(w, 'exit');
      expect(code).toBe(0);
    }
  });

  it('SIGTERM mid-run: the worker exits 0 and a successor finishes the rest without duplicates', async () => {
    // With AMBIGUOUS_SETTLE_MS at 60 s, were SIGTERM to abort starts in flight, their retries
    // would wait that long and this test would time out.
    sim.sim.faults.add({ operation: 'startJobs', mode: 'delay', delayMs: 100, times: -1 });
    const before = sim.sim.state.jobs.length;
    const w = spawnWorker();
    const events = Array.from({ length: 60 }, () => flatEvent());
    for (const ev of events) expect((await post(receiver.url, ev)).status).toBe(202);
    await eventually(() => sim.sim.state.jobs.length - before >= 5, 30_000, 'some started');
    w.kill('SIGTERM');
    const [code] = await once(w, 'exit');
    expect(code).toBe(0);
    const next = spawnWorker();
    await eventually(async () => (await completed()) === 260, 60_000, 'all completed');
    sim.sim.faults.clear();
    const refs = sim.sim.state.jobs.slice(before).map((j) => j.Reference);
    expect(refs).toHaveLength(60);
    expect(new Set(refs).size).toBe(60);
    next.kill('SIGTERM');
    await once(next, 'exit');
  });
});
