/**
 * `pnpm test:chaos`: steady signed load through receiver → worker → simulator,
 * all real processes, while faults are injected in turn; then three ledgers are
 * reconciled (what the receiver answered 2xx, what the queues hold, what the
 * simulator started). Exits 1 on any lost or duplicated robot job.
 * Flags: --seconds N (load duration, default 60), --rate N (events/s, default 60).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signBody, toJobId } from '@rpa-bridge/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Proc, startProcess, waitForHttp } from '../../bench/processes.js';
import { buildWorkspace } from '../../scripts/build.js';
import { ENCRYPTION_KEY, writeTestRoutesFile } from '../support/receiver.js';
import { freePort, startRedisServer } from '../support/redis-server.js';

const { values: flags } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, rate: { type: 'string', default: '60' } },
});
const SECONDS = Number(flags.seconds);
const RATE = Number(flags.rate);
const KEY = 'chaos-key';
const SECRET = 'chaos-secret';
const log = (s: string) => process.stdout.write(`[chaos +${((performance.now() - T0) / 1000).toFixed(1)}s] ${s}\n`);
const T0 = performance.now();

// The services run compiled, the way the image runs them (scripts/build.ts).
await buildWorkspace();
const redis = await startRedisServer();
const prefix = `{chaos-${randomUUID().slice(0, 6)}}`;
const routesFile = writeTestRoutesFile();
const simPort = await freePort();
const recvPort = await freePort();
const SIM = `http://127.0.0.1:${simPort}`;
const RECV = `http://127.0.0.1:${recvPort}`;

const sim = startProcess('apps/orchestrator-sim/dist/main.js', {
  SIM_PORT: String(simPort),
  SIM_HOST: '127.0.0.1',
  SIM_JOB_MS: '20',
  SIM_ROBOTS: '50',
  SIM_COLLECTION_LIMIT: '100000',
  SIM_CLIENT_ID: 'chaos',
  SIM_CLIENT_SECRET: 'chaos-secret',
  ROUTES_FILE: routesFile,
});
const receiver = startProcess('apps/receiver/dist/main.js', {
  PORT: String(recvPort),
  HOST: '127.0.0.1',
  REDIS_URL: redis.url,
  QUEUE_PREFIX: prefix,
  ROUTES_FILE: routesFile,
  WEBHOOK_API_KEYS: KEY,
  WEBHOOK_HMAC_SECRETS: SECRET,
  ENCRYPTION_KEY,
});
const workerEnv = {
  REDIS_URL: redis.url,
  QUEUE_PREFIX: prefix,
  ROUTES_FILE: routesFile,
  UIPATH_BASE_URL: `${SIM}/chaos/DefaultTenant/orchestrator_`,
  UIPATH_CLIENT_ID: 'chaos',
  UIPATH_CLIENT_SECRET: 'chaos-secret',
  ENCRYPTION_KEY,
  WORKER_CONCURRENCY: '8',
  WORKER_LOCK_MS: '2000',
  ORCHESTRATOR_TIMEOUT_MS: '1500',
  // The slow-response fault answers after 2.5 s: a retry must not look the Reference up before then.
  AMBIGUOUS_SETTLE_MS: '4000',
  ORCHESTRATOR_COLLECTION_LIMIT: '100000',
  BACKOFF_BASE_MS: '200',
  BACKOFF_MAX_MS: '2000',
  WORKER_METRICS_PORT: '0',
};
const workers: Proc[] = [
  startProcess('apps/worker/dist/main.js', workerEnv),
  startProcess('apps/worker/dist/main.js', workerEnv),
];
await waitForHttp(`${SIM}/__sim/state`);
await waitForHttp(`${RECV}/readyz`);
log(`system up: receiver ${RECV}, simulator ${SIM}, Redis ${redis.url}, 2 workers`);

// ---- the sender: Genesys-like, retries 429/503/network errors with backoff ----
interface Ev {
  id: string;
  body: string;
  acked: boolean;
  statuses: number[];
}
const events: Ev[] = [];
const statusCounts = new Map<string, number>();
const count = (k: string) => statusCounts.set(k, (statusCounts.get(k) ?? 0) + 1);
function makeEvent(): Ev {
  const id = `chaos-${randomUUID()}`;
  const kinds = [{ taskType: 'account_update' }, { taskType: 'refund', note: 'refund requested' }];
  const metadata = kinds[events.length % 5 === 0 ? 1 : 0];
  const body = JSON.stringify({
    eventType: 'interaction.completed',
    timestamp: new Date().toISOString(),
    contactId: `c-${events.length}`,
    interactionId: `i-${id}`,
    correlationId: id,
    metadata,
  });
  return { id, body, acked: false, statuses: [] };
}
async function deliver(ev: Ev): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    let status = 0;
    try {
      const res = await fetch(`${RECV}/v1/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': KEY,
          'x-genesys-signature': signBody(SECRET, ev.body),
        },
        body: ev.body,
        signal: AbortSignal.timeout(5000), // EventBridge API destinations give up after 5 s
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0;
    }
    ev.statuses.push(status);
    count(String(status || 'network-error'));
    if (status === 200 || status === 202) {
      ev.acked = true;
      return;
    }
    if (status !== 0 && status !== 429 && status !== 503) throw new Error(`unexpected ${status} for a valid event`);
    await new Promise((r) => setTimeout(r, 250 * 2 ** Math.min(attempt, 4)));
  }
}

// ---- faults, in turn ----
const faults: Record<string, number> = {};
const note = (k: string, n = 1) => {
  faults[k] = (faults[k] ?? 0) + n;
};
const simFault = (rules: unknown) => fetch(`${SIM}/__sim/faults`, { method: 'POST', body: JSON.stringify(rules) });
const schedule: [number, string, () => Promise<void>][] = [
  [
    0.1,
    'SIGKILL a worker, restart it 2 s later',
    async () => {
      workers[0]?.child.kill('SIGKILL');
      note('worker SIGKILL');
      await new Promise((r) => setTimeout(r, 2000));
      workers[0] = startProcess('apps/worker/dist/main.js', workerEnv);
    },
  ],
  [
    0.25,
    'Redis SIGKILL under load, restart 1.5 s later (AOF)',
    async () => {
      await redis.stop(true);
      note('Redis restart');
      await new Promise((r) => setTimeout(r, 1500));
      await redis.start();
    },
  ],
  [
    0.4,
    'StartJobs faults: 500, 502 after accept, reset after accept, reset before, 429 + Retry-After, slow beyond the client timeout',
    async () => {
      await simFault([
        { operation: 'startJobs', mode: 'reject', status: 500, times: 15 },
        { operation: 'startJobs', mode: 'accept-then-fail', status: 502, times: 15 },
        { operation: 'startJobs', mode: 'accept-then-reset', times: 15 },
        { operation: 'startJobs', mode: 'reset', times: 10 },
        { operation: 'startJobs', mode: 'reject', status: 429, retryAfter: 1, times: 15 },
        { operation: 'startJobs', mode: 'delay', delayMs: 2500, times: 10 },
        { operation: 'addQueueItem', mode: 'accept-then-fail', status: 503, times: 5 },
      ]);
    },
  ],
  [
    0.65,
    'SIGKILL the other worker, restart it',
    async () => {
      workers[1]?.child.kill('SIGKILL');
      note('worker SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      workers[1] = startProcess('apps/worker/dist/main.js', workerEnv);
    },
  ],
];
const tokenExpiry = setInterval(() => {
  void fetch(`${SIM}/__sim/tokens/expire`, { method: 'POST' }).then(() => note('token expiry'));
}, 3000);

// ---- load ----
const deliveries: Promise<void>[] = [];
const total = RATE * SECONDS;
const fired = new Set<number>();
const running: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = T0 + 3000 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const progress = i / total;
  schedule.forEach(([at, name, fn], n) => {
    if (progress >= at && !fired.has(n)) {
      fired.add(n);
      log(`fault: ${name}`);
      running.push(fn());
    }
  });
  const ev = makeEvent();
  events.push(ev);
  deliveries.push(deliver(ev));
  if (Math.random() < 0.2 && events.length > 10) {
    // a redelivery of an earlier event (at-least-once senders)
    const again = events[Math.floor(Math.random() * (events.length - 1))] as Ev;
    note('redelivery');
    deliveries.push(deliver({ ...again, statuses: again.statuses }).then(() => {}));
  }
}
log(`load done: ${events.length} events sent; waiting for senders' retries`);
await Promise.all(deliveries);
await Promise.all(running);
clearInterval(tokenExpiry);

// ---- drain: until nothing waits, runs or is delayed ----
const inspect = new Redis(redis.url, { maxRetriesPerRequest: null });
const queues = ['billing-account-update', 'refunds', 'conversation-end'].map(
  (n) => new Queue(n, { connection: inspect, prefix }),
);
const deadline = Date.now() + 180_000;
for (;;) {
  const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
  const pending = counts.reduce(
    (s, c) => s + (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
    0,
  );
  if (pending === 0) break;
  if (Date.now() > deadline) {
    log(`drain timed out with ${pending} jobs pending`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}

// ---- reconcile the three ledgers ----
const state = (await (await fetch(`${SIM}/__sim/state`)).json()) as {
  jobs: { Reference: string }[];
  queueItems: { Reference: string }[];
  stats: { requests: Record<string, number>; tokenRequests: number };
  faults: { rule: { mode: string; status?: number; operation: string }; hits: number }[];
};
const started = new Map<string, number>();
for (const r of [...state.jobs, ...state.queueItems].map((x) => x.Reference)) started.set(r, (started.get(r) ?? 0) + 1);
const acked = events.filter((e) => e.acked);
const deadLettered = new Map<string, string>();
for (const q of queues) for (const job of await q.getFailed(0, -1)) deadLettered.set(String(job.id), job.failedReason);
let lost = 0;
for (const e of acked) {
  if (!started.has(e.id) && !deadLettered.has(toJobId(e.id))) {
    lost++;
    log(`LOST: ${e.id}`);
  }
}
const duplicated = [...started.values()].filter((n) => n > 1).length;
for (const [ref, n] of started) if (n > 1) log(`DUPLICATED: ${ref} started ${n} times`);
const neverAcked = events.filter((e) => !e.acked).length;
const reasons = new Map<string, number>();
for (const r of deadLettered.values())
  reasons.set(r.replace(/traceId=\S+/, 'traceId=…'), (reasons.get(r.replace(/traceId=\S+/, 'traceId=…')) ?? 0) + 1);

const lines = [
  '',
  '| ledger | count |',
  '| --- | ---: |',
  `| events sent (distinct) | ${events.length} |`,
  `| answered 2xx (receiver ledger) | ${acked.length} |`,
  `| never answered 2xx after 30 sender retries | ${neverAcked} |`,
  `| robot jobs + queue items started (simulator ledger) | ${[...started.values()].reduce((a, b) => a + b, 0)} |`,
  `| dead-lettered (queue ledger) | ${deadLettered.size} |`,
  `| **lost** | **${lost}** |`,
  `| **duplicated** | **${duplicated}** |`,
  '',
  '| sender saw | count |',
  '| --- | ---: |',
  ...[...statusCounts].sort().map(([k, v]) => `| ${k} | ${v} |`),
  '',
  '| fault | count |',
  '| --- | ---: |',
  ...Object.entries(faults).map(([k, v]) => `| ${k} | ${v} |`),
  ...state.faults.map(
    (f) => `| simulator ${f.rule.operation} ${f.rule.mode}${f.rule.status ? ` ${f.rule.status}` : ''} | ${f.hits} |`,
  ),
  `| token requests (tokens expired every 3 s) | ${state.stats.tokenRequests} |`,
  `| Reference lookups (findJobs + findQueueItems) | ${(state.stats.requests.findJobs ?? 0) + (state.stats.requests.findQueueItems ?? 0)} |`,
  ...(reasons.size
    ? ['', '| dead-letter reason | count |', '| --- | ---: |', ...[...reasons].map(([r, n]) => `| ${r} | ${n} |`)]
    : []),
];
process.stdout.write(
  `${lines.join('\n')}\n\nlost=${lost} duplicated=${duplicated} dead-lettered=${deadLettered.size}\n`,
);

for (const q of queues) await q.close();
inspect.disconnect();
await Promise.all([...workers, receiver, sim].map((p) => p.stop()));
await redis.destroy();
const ok = lost === 0 && duplicated === 0 && neverAcked === 0;
process.stdout.write(`${ok ? 1 : 0} passed, ${ok ? 0 : 1} failed\n`);
process.exit(ok ? 0 : 1);
