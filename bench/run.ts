/**
 * `pnpm bench`: SPEC §9 in one run on one machine, printed as Markdown tables.
 *   (a) receiver (API key + HMAC + validation + enqueue to Redis) vs a bare Hono JSON POST
 *   (b) worker dispatch rate to the simulator at several concurrencies
 *   (c) end-to-end latency webhook → Orchestrator start at a steady rate
 * Flags: --duration S (a: seconds per run, default 10), --connections A,B (a: default 10,100),
 * --rate N (c, default 500),
 * --seconds S (c, default 10), --jobs N (b, default 3000), --write (docs/benchmarks.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { START_JOB, signBody, toJobId } from '@rpa-bridge/core';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { buildWorkspace } from '../scripts/build.js';
import { freePort, startRedisServer } from '../test/support/redis-server.js';
import { ownCpuMs, processCpuMs } from './cpu.js';
import { ROOT, startProcess, waitForHttp } from './processes.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10,100' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    jobs: { type: 'string', default: '3000' },
    write: { type: 'boolean', default: false },
    only: { type: 'string', default: 'abc' },
  },
});
const ROUTES_FILE = join(ROOT, 'bench/routes.bench.yaml');
const API_KEY = 'bench-key';
const SECRET = 'bench-secret';
const SIM = { SIM_CLIENT_ID: 'bench', SIM_CLIENT_SECRET: 'bench-secret' };
const log = (s: string) => process.stderr.write(`${s}\n`);

const redisServer = process.env.REDIS_URL ? undefined : await startRedisServer();
const REDIS_URL = process.env.REDIS_URL ?? (redisServer?.url as string);
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

function eventBody(): string {
  return JSON.stringify({
    eventType: 'interaction.completed',
    timestamp: new Date().toISOString(),
    contactId: '89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d',
    userId: 'agent-id-12345',
    interactionId: `int-${randomUUID()}`,
    correlationId: `bench-${randomUUID()}`,
    metadata: { department: 'billing', taskType: 'account_update' },
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function cannon(
  url: string,
  seconds: number,
  connections: number,
): Promise<{ rps: number; p50: number; p99: number; non2xx: number; accepted: number; requests: number }> {
  const result = await autocannon({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => {
          const body = eventBody();
          return {
            ...req,
            body,
            headers: {
              'content-type': 'application/json',
              'x-api-key': API_KEY,
              'x-genesys-signature': signBody(SECRET, body),
            },
          };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
    accepted: result['2xx'],
    requests: result.requests.total,
  };
}

interface Cpu {
  /** CPU µs per request of the server, of Redis (AOF-rewrite children included) and of this process, the load generator. */
  serverUs: number;
  redisUs: number;
  loadUs: number;
}
interface CpuMark {
  pid: number | undefined;
  redisPid: number | undefined;
  server?: number;
  redis?: number;
  load: number;
}
const cpuNow = (pid: number | undefined, redisPid: number | undefined): CpuMark => ({
  pid,
  redisPid,
  server: processCpuMs(pid),
  redis: processCpuMs(redisPid, true),
  load: ownCpuMs(),
});
/**
 * CPU µs per request since `m` (NaN where unknown). Waits for an AOF rewrite
 * the run started: the run's writes caused it, and a child's CPU is counted
 * once it is reaped.
 */
async function cpuPerRequest(m: CpuMark, store: Redis, requests: number): Promise<Cpu> {
  const load = ownCpuMs() - m.load;
  const server = (processCpuMs(m.pid) ?? Number.NaN) - (m.server ?? Number.NaN);
  await rewriteDone(store);
  const redis = (processCpuMs(m.redisPid, true) ?? Number.NaN) - (m.redis ?? Number.NaN);
  const us = (ms: number) => (ms * 1000) / requests;
  return { serverUs: us(server), redisUs: us(redis), loadUs: us(load) };
}

const rewriting = async (redis: Redis) =>
  /aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(await redis.info('persistence'));
/** Waits until no AOF rewrite is running or scheduled. */
async function rewriteDone(redis: Redis) {
  while (await rewriting(redis)) await new Promise((r) => setTimeout(r, 50));
}

/** Empties Redis and rewrites its AOF, waiting until the rewrite is done. */
async function resetStore(redis: Redis) {
  await redis.flushall();
  await rewriteDone(redis);
  await redis.bgrewriteaof();
  // Give the rewrite a moment to show in INFO before waiting on it.
  await new Promise((r) => setTimeout(r, 50));
  await rewriteDone(redis);
}

async function receiverVsBare() {
  const prefix = `{bench-${randomUUID().slice(0, 6)}}`;
  const barePort = await freePort();
  const recvPort = await freePort();
  const ceilingPort = await freePort();
  const bare = startProcess('bench/dist/bare.js', { PORT: String(barePort) });
  const ceiling = startProcess('bench/dist/ceiling.js', {
    PORT: String(ceilingPort),
    REDIS_URL,
    QUEUE_PREFIX: `{ceiling-${randomUUID().slice(0, 6)}}`,
    WEBHOOK_API_KEYS: API_KEY,
    WEBHOOK_HMAC_SECRETS: SECRET,
  });
  const receiver = startProcess('apps/receiver/dist/main.js', receiverEnv(prefix, recvPort));
  await waitForHttp(`http://127.0.0.1:${barePort}/v1/events`, 30_000, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  await waitForHttp(`http://127.0.0.1:${recvPort}/readyz`);
  await waitForHttp(`http://127.0.0.1:${ceilingPort}/v1/events`, 30_000, { method: 'POST', body: '{}' });
  const seconds = Number(flags.duration);
  const store = new Redis(REDIS_URL);
  let lastRun = 0;
  const servers = [
    { name: 'bare', url: `http://127.0.0.1:${barePort}`, pid: bare.child.pid },
    { name: 'receiver', url: `http://127.0.0.1:${recvPort}`, pid: receiver.child.pid },
    { name: 'bound', url: `http://127.0.0.1:${ceilingPort}`, pid: ceiling.child.pid },
  ] as const;
  // Redis's CPU is only ours to read when the bench started it (not with REDIS_URL).
  const redisPid = redisServer?.pid;
  type Result = Awaited<ReturnType<typeof cannon>> & Cpu;
  const results: { connections: number; bare: Result; receiver: Result; bound: Result; ratio: number }[] = [];
  for (const connections of flags.connections.split(',').map(Number)) {
    log(`(a) ${connections} connections: warming up`);
    for (const s of servers) await cannon(s.url, 2, connections);
    const rows: { name: string; r: Result }[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const s of servers) {
        log(`(a) ${connections} connections, round ${round}: ${s.name}`);
        // Every run starts from the same empty store and compacted AOF, so no row pays for an earlier row's data.
        await resetStore(store);
        const before = cpuNow(s.pid, redisPid);
        const run = await cannon(s.url, seconds, connections);
        const r = { ...run, ...(await cpuPerRequest(before, store, run.requests)) };
        if (s.name === 'receiver') {
          const jobs = await store.llen(`${prefix}:bench-account-update:wait`);
          // Every event is new, so every 2xx is a 202 that left its job; requests cut off when the run
          // ends (at most one per connection) may have left a job without their answer being counted.
          if (jobs < r.accepted || jobs > r.accepted + connections) {
            throw new Error(`receiver answered ${r.accepted} 2xx but left ${jobs} jobs`);
          }
          lastRun = jobs;
        }
        rows.push({ name: s.name, r });
      }
    }
    const avg = (name: string): Result => {
      const rs = rows.filter((x) => x.name === name).map((x) => x.r);
      return {
        rps: rs.reduce((s, x) => s + x.rps, 0) / rs.length,
        p50: rs.reduce((s, x) => s + x.p50, 0) / rs.length,
        p99: rs.reduce((s, x) => s + x.p99, 0) / rs.length,
        non2xx: rs.reduce((s, x) => s + x.non2xx, 0),
        accepted: rs.reduce((s, x) => s + x.accepted, 0),
        requests: rs.reduce((s, x) => s + x.requests, 0),
        serverUs: rs.reduce((s, x) => s + x.serverUs, 0) / rs.length,
        redisUs: rs.reduce((s, x) => s + x.redisUs, 0) / rs.length,
        loadUs: rs.reduce((s, x) => s + x.loadUs, 0) / rs.length,
      };
    };
    const bare = avg('bare');
    const receiver = avg('receiver');
    results.push({ connections, bare, receiver, bound: avg('bound'), ratio: receiver.rps / bare.rps });
  }
  await bare.stop();
  await ceiling.stop();
  await receiver.stop();
  await store.quit();
  return { results, jobsInRedis: lastRun, seconds };
}

async function startSim(port: number) {
  const sim = startProcess('apps/orchestrator-sim/dist/main.js', {
    SIM_PORT: String(port),
    SIM_HOST: '127.0.0.1',
    SIM_JOB_MS: '1',
    SIM_ROBOTS: '10000',
    SIM_COLLECTION_LIMIT: '100000',
    ROUTES_FILE,
    ...SIM,
  });
  await waitForHttp(`http://127.0.0.1:${port}/__sim/state`);
  return sim;
}

function receiverEnv(prefix: string, port: number) {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ROUTES_FILE,
    WEBHOOK_API_KEYS: API_KEY,
    WEBHOOK_HMAC_SECRETS: SECRET,
    ENCRYPTION_KEY,
    MAX_BACKLOG: '100000000',
  };
}

function workerEnv(prefix: string, simPort: number, concurrency: number, metricsPort: number) {
  return {
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ROUTES_FILE,
    UIPATH_BASE_URL: `http://127.0.0.1:${simPort}`,
    UIPATH_CLIENT_ID: SIM.SIM_CLIENT_ID,
    UIPATH_CLIENT_SECRET: SIM.SIM_CLIENT_SECRET,
    ENCRYPTION_KEY,
    WORKER_CONCURRENCY: String(concurrency),
    WORKER_METRICS_PORT: String(metricsPort),
  };
}

async function workerDispatch() {
  const n = Number(flags.jobs);
  const rows: { concurrency: number; jobsPerSecond: number; started: number }[] = [];
  for (const concurrency of [1, 8, 32, 128]) {
    const prefix = `{bench-${randomUUID().slice(0, 6)}}`;
    const simPort = await freePort();
    const sim = await startSim(simPort);
    const worker = startProcess('apps/worker/dist/main.js', workerEnv(prefix, simPort, concurrency, await freePort()));
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('bench-account-update', { connection: redis, prefix });
    // wait until the worker registered, so start-up time is not measured
    const deadline = Date.now() + 30_000;
    while ((await queue.getWorkersCount()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const count = concurrency === 1 ? Math.min(n, 500) : n;
    const now = new Date().toISOString();
    const jobs = Array.from({ length: count }, (_, i) => {
      const correlationId = `bench-${i}-${randomUUID()}`;
      return {
        name: START_JOB,
        data: {
          v: 1 as const,
          route: 'bench-account-update',
          correlationId,
          eventType: 'interaction.completed',
          eventTimestamp: now,
          receivedAt: now,
          inputs: { ContactId: 'c', CorrelationId: correlationId },
          sealed: {},
        },
        opts: {
          jobId: toJobId(correlationId),
          attempts: 8,
          backoff: { type: 'rpa-bridge' },
          removeOnComplete: { age: 3600 },
        },
      };
    });
    log(`(b) worker concurrency ${concurrency}: ${count} jobs`);
    const started = performance.now();
    await queue.addBulk(jobs);
    while ((await queue.getCompletedCount()) < count) {
      if (performance.now() - started > 300_000) throw new Error('worker bench timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const state = (await (await fetch(`http://127.0.0.1:${simPort}/__sim/state`)).json()) as { jobs: unknown[] };
    rows.push({ concurrency, jobsPerSecond: count / seconds, started: state.jobs.length });
    await queue.close();
    redis.disconnect();
    await worker.stop();
    await sim.stop();
  }
  return rows;
}

async function endToEnd() {
  const rate = Number(flags.rate);
  const seconds = Number(flags.seconds);
  const prefix = `{bench-${randomUUID().slice(0, 6)}}`;
  const simPort = await freePort();
  const recvPort = await freePort();
  const sim = await startSim(simPort);
  const receiver = startProcess('apps/receiver/dist/main.js', receiverEnv(prefix, recvPort));
  const worker = startProcess('apps/worker/dist/main.js', workerEnv(prefix, simPort, 64, await freePort()));
  await waitForHttp(`http://127.0.0.1:${recvPort}/readyz`);
  const redis = new Redis(REDIS_URL);
  const probe = new Queue('bench-account-update', { connection: redis, prefix });
  while ((await probe.getWorkersCount()) === 0) await new Promise((r) => setTimeout(r, 100));
  const agent = new Agent({ connections: 64 });
  const sentAt = new Map<string, number>();
  const statuses = new Map<number, number>();
  const warmup = rate * 2; // two seconds at the same rate, not measured (JIT, token, release cache)
  const total = rate * seconds + warmup;
  log(`(c) ${total} events at ${rate}/s`);
  const t0 = performance.now();
  const epoch0 = Date.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = eventBody();
    const id = (JSON.parse(body) as { correlationId: string }).correlationId;
    if (i >= warmup) sentAt.set(id, epoch0 + (performance.now() - t0));
    inflight.push(
      request(`http://127.0.0.1:${recvPort}/v1/events`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'x-api-key': API_KEY,
          'x-genesys-signature': signBody(SECRET, body),
        },
        body,
      }).then(async (res) => {
        await res.body.dump();
        if (i >= warmup) statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(inflight);
  const achieved = total / ((performance.now() - t0) / 1000);
  const measured = total - warmup;
  const deadline = Date.now() + 60_000;
  let jobs: { Reference: string; CreationTime: string }[] = [];
  while (Date.now() < deadline) {
    jobs = ((await (await fetch(`http://127.0.0.1:${simPort}/__sim/state`)).json()) as { jobs: typeof jobs }).jobs;
    if (jobs.length >= total) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const latencies = jobs
    .map((j) => Date.parse(j.CreationTime) - (sentAt.get(j.Reference) ?? Number.NaN))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  await agent.close();
  await probe.close();
  redis.disconnect();
  await worker.stop();
  await receiver.stop();
  await sim.stop();
  return {
    rate,
    achieved,
    sent: measured,
    accepted: statuses.get(202) ?? 0,
    started: jobs.filter((j) => sentAt.has(j.Reference)).length,
    duplicates: jobs.length - new Set(jobs.map((j) => j.Reference)).size,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  };
}

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
log(`machine: ${machine}`);
// Every server runs compiled, as production does (scripts/build.ts).
await buildWorkspace(log);
const only = flags.only;
const a = only.includes('a') ? await receiverVsBare() : undefined;
const b = only.includes('b') ? await workerDispatch() : undefined;
const c = only.includes('c') ? await endToEnd() : undefined;
await redisServer?.destroy();

const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const sections: string[] = [
  `Machine: ${machine}; load generator, servers and Redis share it. ${new Date().toISOString().slice(0, 10)}.`,
];
if (a)
  sections.push(
    [
      '',
      `### (a) Ingest: receiver vs a bare Hono JSON POST (autocannon, 2 × ${a.seconds} s per server and connection count, interleaved)`,
      '',
      '| connections | server | req/s | p50 ms | p99 ms | non-2xx | ÷ bare | CPU µs/request: server · Redis · load generator |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...a.results.flatMap((r) => {
        const row = (name: string, x: typeof r.bare) =>
          `| ${r.connections} | ${name} | ${f(x.rps)} | ${f(x.p50, 1)} | ${f(x.p99, 1)} | ${x.non2xx} | ${f(x.rps / r.bare.rps, 2)} | ${[x.serverUs, x.redisUs, x.loadUs].map((v) => (Number.isFinite(v) ? f(v) : '–')).join(' · ')} |`;
        return [
          row('bare Hono JSON POST', r.bare),
          row('**receiver**: API key + HMAC + zod + route + durable enqueue + audit', r.receiver),
          row('bound: key + HMAC + `JSON.parse` + one Lua write per turn, nothing else', r.bound),
        ];
      }),
      '',
      `Each run starts from an empty Redis with a compacted AOF; the last receiver run left ${f(a.jobsInRedis)} jobs, one per 202 (checked for every run, give or take the requests in flight when a run stops). The bound is \`bench/servers/ceiling.ts\`: no BullMQ, schema, route, audit or metrics.`,
    ].join('\n'),
  );
if (b)
  sections.push(
    [
      '',
      '### (b) Worker dispatch to the simulator (one worker process, jobs pre-queued, simulator job time 1 ms)',
      '',
      '| WORKER_CONCURRENCY | jobs/s | robot jobs started |',
      '| ---: | ---: | ---: |',
      ...b.map((r) => `| ${r.concurrency} | ${f(r.jobsPerSecond)} | ${f(r.started)} |`),
    ].join('\n'),
  );
if (c)
  sections.push(
    [
      '',
      `### (c) End to end: webhook → Orchestrator start at a steady ${c.rate} events/s (after 2 s of warm-up at the same rate)`,
      '',
      '| sent | achieved rate/s | 202 | robot jobs | duplicates | p50 ms | p99 ms | max ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${f(c.sent)} | ${f(c.achieved)} | ${f(c.accepted)} | ${f(c.started)} | ${c.duplicates} | ${f(c.p50)} | ${f(c.p99)} | ${f(c.max)} |`,
    ].join('\n'),
  );
const table = sections.join('\n');
process.stdout.write(`${table}\n`);
if (flags.write) {
  // The hand-written reading of the numbers (from its heading on) is kept.
  const doc = join(ROOT, 'docs/benchmarks.md');
  const old = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const reading = old.includes('\n## Reading these numbers')
    ? old.slice(old.indexOf('\n## Reading these numbers'))
    : '';
  writeFileSync(
    doc,
    `# Benchmarks\n\nMeasured with \`pnpm bench -- --write\` (SPEC §9). Numbers from one run; machines here are noisy, so compare rows of the same run, not runs.\n\n${table}\n${reading}`,
  );
}
process.exit(0);
