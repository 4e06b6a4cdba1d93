import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultJobOptions, parseRoutes, START_JOB, type StartJobData } from '@rpa-bridge/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createReceiverMetrics } from '../apps/receiver/src/metrics.js';
import { createWorkerMetrics } from '../apps/worker/src/metrics.js';
import { buildWorkspace } from '../scripts/build.js';
import { startRedisServer } from './support/redis-server.js';

const ROOT = join(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Every variable the config loaders read, taken from their source so the list cannot drift. */
function knownVariables(): Set<string> {
  const files = [
    'packages/core/src/config.ts',
    'packages/core/src/worker-config.ts',
    'apps/orchestrator-sim/src/config.ts',
  ];
  const names = new Set<string>();
  for (const f of files) {
    for (const m of read(f).matchAll(
      /r\.(?:string|secret|secretList|list|int|bool|duration|oneOf|parsedList)\('([A-Z0-9_]+)'/g,
    )) {
      names.add(m[1] as string);
    }
  }
  for (const n of [...names]) names.add(`${n}_FILE`); // every secret also as NAME_FILE
  return names;
}

/** Metric names both services register (histograms also expose _bucket, _sum, _count). */
async function knownMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of [createReceiverMetrics(() => []).registry, createWorkerMetrics(() => []).registry]) {
    for (const m of await registry.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
    }
  }
  return names;
}

const metricNames = (expr: string) => [...expr.matchAll(/\b(rpa_[a-z_]+)\b/g)].map((m) => m[1] as string);

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Record<string, unknown>> };
  const known = knownVariables();

  it('has Redis with AOF and noeviction, and the three services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['receiver', 'redis', 'simulator', 'worker']);
    const cmd = (compose.services.redis as { command: string[] }).command.join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    expect((compose.services.worker as { deploy: { replicas: number } }).deploy.replicas).toBeGreaterThanOrEqual(2);
  });

  it("keeps a start job's hash a compact listpack, which Redis's default settings do not", async () => {
    const server = await startRedisServer(); // with compose's arguments
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const queue = new Queue('encoding-probe', { connection: redis, prefix: '{t-encoding}' });
    // A start job as the receiver writes it: its data and options are each well over Redis's 64-byte default.
    const correlationId = 'bench-bece0a46-b2bf-4793-b170-0b94a8bd917d';
    const data: StartJobData = {
      v: 1,
      route: 'account-update',
      correlationId,
      eventType: 'interaction.completed',
      eventTimestamp: '2026-12-04T23:49:11.926Z',
      receivedAt: '2026-12-04T23:49:11.928Z',
      inputs: { ContactId: '89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d', CorrelationId: correlationId, reason: 'update' },
      sealed: {},
    };
    const opts = defaultJobOptions({ dedupeTtlMs: 86_400_000, attempts: 8 });
    const encodingOf = async (id: string) => {
      await queue.add(START_JOB, data, { ...opts, jobId: id });
      return [
        await redis.object('ENCODING', `{t-encoding}:encoding-probe:${id}`),
        await redis.memory('USAGE', `{t-encoding}:encoding-probe:${id}`, 'SAMPLES', 0),
      ];
    };
    try {
      const [compact, compactBytes] = await encodingOf('c-compose');
      await redis.config('SET', 'hash-max-listpack-value', '64'); // Redis's default
      const [table, tableBytes] = await encodingOf('c-default');
      expect([compact, table]).toEqual(['listpack', 'hashtable']);
      expect(Number(compactBytes)).toBeLessThan(Number(tableBytes) * 0.8);
    } finally {
      await queue.close();
      redis.disconnect();
      await server.destroy();
    }
  });

  it('sets only variables the code reads, and health checks hit real ports and paths', () => {
    for (const name of ['receiver', 'worker', 'simulator']) {
      const svc = compose.services[name] as { environment: Record<string, string>; healthcheck: { test: string[] } };
      for (const v of Object.keys(svc.environment)) expect(known, `${name}: ${v}`).toContain(v);
      const url = /http:\/\/127\.0\.0\.1:(\d+)(\/[\w_/]+)/.exec(svc.healthcheck.test.join(' '));
      const port =
        name === 'receiver'
          ? svc.environment.PORT
          : name === 'worker'
            ? svc.environment.WORKER_METRICS_PORT
            : svc.environment.SIM_PORT;
      expect(url?.[1], name).toBe(port);
      expect(['/readyz', '/__sim/state']).toContain(url?.[2]);
    }
    // no secret value is committed: secrets come from the environment
    expect(compose.services.receiver?.environment).toMatchObject({
      WEBHOOK_API_KEYS: expect.stringMatching(/^\$\{WEBHOOK_API_KEYS:\?/),
    });
  });
});

describe('Kubernetes manifests', () => {
  const docs = readdirSync(join(ROOT, 'deploy/kubernetes')).flatMap((f) =>
    parseAllDocuments(read(`deploy/kubernetes/${f}`)).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    ),
  );
  const byName = (kind: string, name: string) =>
    docs.find((d) => d.kind === kind && d.metadata.name === name) as (typeof docs)[number];
  type Container = {
    env: { name: string; value?: string }[];
    ports: { name: string; containerPort: number }[];
    readinessProbe: { httpGet: { path: string; port: string } };
    livenessProbe: { httpGet: { path: string; port: string } };
  };
  const container = (name: string) =>
    (
      byName('Deployment', name).spec.template as {
        spec: { containers: Container[]; terminationGracePeriodSeconds: number };
      }
    ).spec;

  it('probes /healthz and /readyz on the port the process listens on, with known variables', () => {
    const known = knownVariables();
    for (const [name, portVar] of [
      ['rpa-bridge-receiver', 'PORT'],
      ['rpa-bridge-worker', 'WORKER_METRICS_PORT'],
    ] as const) {
      const c = container(name).containers[0] as Container;
      for (const e of c.env) expect(known, `${name}: ${e.name}`).toContain(e.name);
      const port = c.env.find((e) => e.name === portVar)?.value;
      const named = c.ports.find((p) => p.name === c.readinessProbe.httpGet.port);
      expect(String(named?.containerPort)).toBe(port);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    }
  });

  it('gives workers a grace period above their drain deadline', () => {
    const spec = container('rpa-bridge-worker');
    const drainMs = Number((spec.containers[0] as Container).env.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value);
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs);
  });

  it('caps KEDA replicas at what the routes can use, on metrics that exist', async () => {
    const routesDoc = parse(
      (byName('ConfigMap', 'rpa-bridge-routes') as unknown as { data: Record<string, string> }).data[
        'routes.yaml'
      ] as string,
    );
    const routes = parseRoutes(routesDoc, 'routes-configmap.yaml');
    const perWorker = Number(
      (container('rpa-bridge-worker').containers[0] as Container).env.find((e) => e.name === 'WORKER_CONCURRENCY')
        ?.value,
    );
    const cap = Math.max(...routes.map((r) => Math.ceil(r.concurrency / Math.min(perWorker, r.concurrency))));
    const scaled = byName('ScaledObject', 'rpa-bridge-worker').spec as {
      maxReplicaCount: number;
      scaleTargetRef: { name: string };
      triggers: { metadata: { query: string } }[];
    };
    expect(scaled.scaleTargetRef.name).toBe('rpa-bridge-worker');
    expect(scaled.maxReplicaCount).toBeLessThanOrEqual(cap);
    const metrics = await knownMetrics();
    for (const t of scaled.triggers) for (const m of metricNames(t.metadata.query)) expect(metrics).toContain(m);
  });
});

describe('Dockerfile and process commands', () => {
  const stages = read('Dockerfile')
    .split(/^FROM /m)
    .slice(1);
  const stage = (name: string) => stages.find((s) => s.split('\n')[0]?.endsWith(` AS ${name}`)) ?? '';
  const image = stages.at(-1) ?? '';
  const workspace = ['packages', 'apps'].flatMap((g) =>
    readdirSync(join(ROOT, g), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => `${g}/${d.name}`),
  );

  it('compiles in a build stage and ships dist/ with production dependencies only, as a non-root user', () => {
    const [manifests, build, deps] = ['manifests', 'build', 'deps'].map(stage) as [string, string, string];
    expect(manifests).toMatch(/^COPY package\.json pnpm-lock\.yaml /m);
    // both install from the same manifests stage
    expect(build.split('\n')[0]).toBe('manifests AS build');
    expect(deps.split('\n')[0]).toBe('manifests AS deps');
    expect(build).toMatch(/^RUN pnpm install --frozen-lockfile$/m);
    expect(build).toMatch(/^RUN pnpm build$/m);
    expect(deps).toMatch(/^RUN pnpm install --frozen-lockfile --prod$/m);
    expect(image).toMatch(/^COPY --from=deps /m);
    expect(image).toMatch(/^USER node$/m);
    // V8's young generation sized for the receiver's allocation rate; `pnpm bench` runs every server with it
    expect(image).toMatch(/^ENV .*\bNODE_OPTIONS=--max-semi-space-size=\d+$/m);
    expect(image).not.toMatch(/tsx|pnpm install|COPY --chown=node:node (apps|packages) /);
    for (const p of workspace)
      expect(image).toContain(`COPY --from=build --chown=node:node /app/${p}/dist ./${p}/dist`);
  });

  it('runs compiled entry points that `pnpm build` produces, in the image, compose and Kubernetes', async () => {
    const cmd = /^CMD (\[.*\])$/m.exec(image)?.[1] as string;
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, { command?: string[] }> };
    const k8s = readdirSync(join(ROOT, 'deploy/kubernetes')).flatMap((f) =>
      parseAllDocuments(read(`deploy/kubernetes/${f}`)).flatMap((d) => {
        const pod = (d.toJS() as { spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } } })?.spec
          ?.template?.spec;
        return (pod?.containers ?? []).map((c) => c.args ?? []);
      }),
    );
    const commands = [
      JSON.parse(cmd) as string[],
      ...Object.values(compose.services).flatMap((s) => (s.command?.[0] === 'node' ? [s.command] : [])),
      ...k8s,
    ];
    expect(commands.length).toBe(1 + 3 + 2);
    await buildWorkspace();
    for (const [node, entry, ...rest] of commands) {
      expect(node).toBe('node');
      expect(rest).toEqual([]);
      expect(entry).toMatch(/^apps\/[\w-]+\/dist\/main\.js$/);
      expect(existsSync(join(ROOT, entry as string)), entry).toBe(true);
    }
  });
});

describe('Grafana dashboard', () => {
  it('queries only metrics the services export', async () => {
    const dash = JSON.parse(read('deploy/grafana/rpa-bridge-dashboard.json')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const metrics = await knownMetrics();
    const used = dash.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)));
    expect(used.length).toBeGreaterThan(10);
    for (const m of used) expect(metrics, m).toContain(m);
    for (const title of [
      'Ingest rate by HTTP status',
      'Oldest waiting job age',
      'SLA breaches',
      'Dead letters (failed set) by route',
    ]) {
      expect(dash.panels.map((p) => p.title)).toContain(title);
    }
  });
});

describe('queue metrics', () => {
  it('report depth by state and the age of the oldest waiting job', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = new Queue('metrics-probe', { connection: redis, prefix: `{t-${Date.now()}}` });
    try {
      await queue.add('start', { n: 1 }, { timestamp: Date.now() - 90_000 });
      await queue.add('start', { n: 2 });
      const m = createReceiverMetrics(() => [queue]);
      const text = await m.registry.metrics();
      expect(text).toContain('rpa_queue_jobs{queue="metrics-probe",state="waiting"} 2');
      const age = Number(/rpa_queue_oldest_waiting_seconds\{queue="metrics-probe"\} ([\d.]+)/.exec(text)?.[1]);
      expect(age).toBeGreaterThanOrEqual(90);
      expect(age).toBeLessThan(120);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});
