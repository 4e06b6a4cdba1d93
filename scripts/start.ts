/**
 * `pnpm start`: the whole system on one machine. Redis from REDIS_URL, else a
 * redis-server started here; the Orchestrator simulator unless UIPATH_BASE_URL
 * is set; the receiver and a worker. Prints the URLs and a signed sample curl.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRoutesFile, signBody } from '@rpa-bridge/core';

const env: Record<string, string | undefined> = { ...process.env };
const children: { name: string; proc: ChildProcess }[] = [];
const out = (s: string) => process.stdout.write(`${s}\n`);

function freePort(preferred?: number): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(freePort()));
    srv.listen(preferred ?? 0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function run(name: string, cmd: string, args: string[]): ChildProcess {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    String(chunk)
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${name}] ${l}\n`)
      .join('');
  proc.stdout?.on('data', (d: Buffer) => process.stdout.write(prefix(d)));
  proc.stderr?.on('data', (d: Buffer) => process.stderr.write(prefix(d)));
  proc.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[start] ${name} exited (${code ?? signal}); stopping everything\n`);
      void stop(1);
    }
  });
  children.push({ name, proc });
  return proc;
}

const tsx = (file: string) => ['--conditions=source', '--import', 'tsx', file];

async function waitFor(url: string, what: string, ms = 30_000, init?: RequestInit) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, init);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready at ${url}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const { proc } of [...children].reverse()) if (proc.exitCode === null) proc.kill('SIGTERM');
  await Promise.all(
    children.map(({ proc }) => (proc.exitCode !== null ? undefined : new Promise((r) => proc.once('exit', r)))),
  );
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

env.ROUTES_FILE ??= 'config/routes.example.yaml';
const routes = loadRoutesFile(env.ROUTES_FILE);

if (!env.REDIS_URL) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    process.stderr.write(
      'pnpm start needs Redis: set REDIS_URL, or install redis-server (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis).\n',
    );
    process.exit(1);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rpa-bridge-redis-'));
  run('redis', 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ]);
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
}

const generated: string[] = [];
if (
  !env.WEBHOOK_API_KEYS &&
  !env.WEBHOOK_HMAC_SECRETS &&
  !env.WEBHOOK_API_KEYS_FILE &&
  !env.WEBHOOK_HMAC_SECRETS_FILE
) {
  env.WEBHOOK_API_KEYS = `dev-${randomBytes(12).toString('hex')}`;
  env.WEBHOOK_HMAC_SECRETS = `dev-${randomBytes(16).toString('hex')}`;
  generated.push('WEBHOOK_API_KEYS', 'WEBHOOK_HMAC_SECRETS');
}
if (!env.ENCRYPTION_KEY && !env.ENCRYPTION_KEY_FILE) {
  env.ENCRYPTION_KEY = randomBytes(32).toString('base64');
  generated.push('ENCRYPTION_KEY');
}
if (!env.ADMIN_TOKEN && !env.ADMIN_TOKEN_FILE && !env.ADMIN_USER) {
  env.ADMIN_TOKEN = `dev-admin-${randomBytes(12).toString('hex')}`;
  generated.push('ADMIN_TOKEN');
}
env.TRACK_COMPLETION ??= 'true'; // the sample's audit trail then shows the robot outcome
env.PORT ??= String(await freePort(8080));
env.WORKER_METRICS_PORT ??= String(await freePort(9464));

const simulator = !env.UIPATH_BASE_URL;
if (simulator) {
  env.SIM_PORT ??= String(await freePort(8089));
  env.SIM_JOB_MS ??= '2000';
  run('simulator', process.execPath, tsx('apps/orchestrator-sim/src/main.ts'));
  await waitFor(`http://127.0.0.1:${env.SIM_PORT}/__sim/state`, 'the Orchestrator simulator');
}
run('receiver', process.execPath, tsx('apps/receiver/src/main.ts'));
run('worker', process.execPath, tsx('apps/worker/src/main.ts'));
const base = `http://127.0.0.1:${env.PORT}`;
await waitFor(`${base}/readyz`, 'the receiver');
await waitFor(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/readyz`, 'the worker');

const route = routes.find((r) => r.target.kind === 'job') ?? routes[0];
const sample = {
  eventType: 'interaction.completed',
  timestamp: new Date().toISOString(),
  contactId: '89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d',
  userId: 'agent-id-12345',
  interactionId: `int-${randomUUID()}`,
  correlationId: `rpa-sample-${randomUUID()}`,
  metadata: { department: 'billing', taskType: 'account_update' },
};
const body = JSON.stringify(sample);
const headers = ['-H', "'Content-Type: application/json'"];
const key = env.WEBHOOK_API_KEYS?.split(',')[0]?.trim();
const secret = env.WEBHOOK_HMAC_SECRETS?.split(',')[0]?.trim();
if (key) headers.push('-H', `'X-API-Key: ${key}'`);
if (secret) headers.push('-H', `'X-Genesys-Signature: ${signBody(secret, body)}'`);

out('');
out('================ rpa-bridge is running ================');
if (simulator) {
  out(
    `!!! No UIPATH_BASE_URL: robots start on the LOCAL ORCHESTRATOR SIMULATOR (http://127.0.0.1:${env.SIM_PORT}), not on UiPath !!!`,
  );
}
out(`webhooks:    POST ${base}/v1/events   (alias ${base}/webhooks/genesys)`);
out(`Bull Board:  ${base}/admin/queues   (Authorization: Bearer ${env.ADMIN_TOKEN ?? '<your ADMIN_TOKEN>'})`);
out(`audit:       ${base}/v1/transactions/{correlationId}`);
out(`metrics:     ${base}/metrics  and  http://127.0.0.1:${env.WORKER_METRICS_PORT}/metrics`);
out(`Redis:       ${env.REDIS_URL?.replace(/\/\/[^@]*@/, '//***@')}`);
if (generated.length > 0) out(`generated for this run only: ${generated.join(', ')}`);
out(`routes:      ${routes.map((r) => r.name).join(', ')}  (sample goes to ${route?.name})`);
out('');
out('send a signed sample event:');
out(`curl -sS -X POST ${base}/v1/events ${headers.join(' ')} --data-raw '${body}'`);
out('then follow it:');
out(
  `curl -sS ${base}/v1/transactions/${sample.correlationId} -H 'Authorization: Bearer ${env.ADMIN_TOKEN ?? '<ADMIN_TOKEN>'}'`,
);
out('=======================================================');
