import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ENCRYPTION_KEY, flatEvent, post, testRoutes, writeTestRoutesFile } from '../support/receiver.js';
import { freePort } from '../support/redis-server.js';
import { SIM_CLIENT, startTestSimulator } from '../support/simulator.js';
import { eventually } from '../support/worker.js';

const ROOT = join(import.meta.dirname, '../..');

interface OtlpSpan {
  traceId: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** A stand-in OTLP/HTTP collector: keeps every span the processes export (JSON encoding). */
async function startCollector(): Promise<{
  url: string;
  spans: { service: string; span: OtlpSpan }[];
  server: Server;
}> {
  const spans: { service: string; span: OtlpSpan }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value
            ?.stringValue;
          for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ service, span });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value.stringValue;

describe('OpenTelemetry over OTLP from the real processes', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  function start(file: string, env: Record<string, string>): ChildProcess {
    const child = spawn('node', ['--conditions=source', '--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', OTEL_BSP_SCHEDULE_DELAY: '100', ...env },
      stdio: 'ignore',
    });
    cleanup.push(async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    });
    return child;
  }

  it('OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on: receiver and worker export one trace per webhook', async () => {
    const collector = await startCollector();
    cleanup.push(() => new Promise((r) => collector.server.close(r)));
    const sim = await startTestSimulator({ routes: testRoutes(), settings: { robots: 5, jobMs: 20 } });
    cleanup.push(() => sim.close());
    const routesFile = writeTestRoutesFile();
    const port = await freePort();
    const common = {
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `{t-otel-${port}}`,
      ROUTES_FILE: routesFile,
      ENCRYPTION_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    };
    start('apps/receiver/src/main.ts', { ...common, PORT: String(port), HOST: '127.0.0.1', WEBHOOK_API_KEYS: 'k' });
    start('apps/worker/src/main.ts', {
      ...common,
      UIPATH_BASE_URL: `${sim.url}/acme/DefaultTenant/orchestrator_`,
      UIPATH_CLIENT_ID: SIM_CLIENT.clientId,
      UIPATH_CLIENT_SECRET: SIM_CLIENT.clientSecret,
      WORKER_METRICS_PORT: '0',
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 30_000, 'up');

    const ev = flatEvent();
    const id = ev.correlationId as string;
    expect((await post(url, ev, { 'x-api-key': 'k' })).status).toBe(202);
    const startSpan = () =>
      collector.spans.find((s) => s.span.name === 'orchestrator startJob' && attr(s.span, 'rpa.correlation_id') === id);
    const serverSpan = () =>
      collector.spans.find((s) => s.span.name === 'POST /v1/events' && attr(s.span, 'rpa.correlation_id') === id);
    await eventually(() => startSpan() !== undefined, 30_000, 'the worker exported the StartJobs span');
    // Each process exports on its own schedule: the receiver's span may arrive after the worker's.
    await eventually(() => serverSpan() !== undefined, 10_000, 'the receiver exported its span');
    const server = serverSpan();
    expect(server?.service).toBe('rpa-bridge-receiver');
    expect(startSpan()?.service).toBe('rpa-bridge-worker');
    expect(startSpan()?.span.traceId).toBe(server?.span.traceId);
  });
});
