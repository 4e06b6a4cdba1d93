import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';
import { eventually } from '../support/worker.js';

const ROOT = join(import.meta.dirname, '../..');

/** Replays the printed `curl -sS -X POST URL -H 'A: b' ... --data-raw 'BODY'` without a shell. */
async function replayCurl(line: string): Promise<number> {
  const url = /-X POST (\S+)/.exec(line)?.[1] as string;
  const headers = Object.fromEntries(
    [...line.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1] as string, m[2] as string]),
  );
  const body = /--data-raw '(.*)'$/.exec(line)?.[1] as string;
  return (await fetch(url, { method: 'POST', headers, body })).status;
}

describe('pnpm start', () => {
  it('starts Redis, the simulator, the receiver and a worker; the printed curl makes a Successful simulator job', async () => {
    const env: Record<string, string | undefined> = { ...process.env, SIM_JOB_MS: '200', LOG_LEVEL: 'warn' };
    delete env.REDIS_URL;
    delete env.UIPATH_BASE_URL;
    env.PORT = String(await freePort());
    env.SIM_PORT = String(await freePort());
    env.WORKER_METRICS_PORT = String(await freePort());
    const child = spawn('node', ['--conditions=source', '--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    try {
      await eventually(() => out.includes('then follow it:'), 60_000, 'the start banner');
      expect(out).toContain('LOCAL ORCHESTRATOR SIMULATOR');
      const curl = out.split('\n').find((l) => l.startsWith('curl -sS -X POST')) as string;
      const viaCurl = spawnSync('curl', ['--version']).status === 0;
      const status = viaCurl
        ? Number(spawnSync('bash', ['-c', `${curl} -o /dev/null -w '%{http_code}'`]).stdout.toString())
        : await replayCurl(curl);
      expect(status).toBe(202);
      const reference = /"correlationId":"([^"]+)"/.exec(curl)?.[1];
      const sim = `http://127.0.0.1:${env.SIM_PORT}/__sim/state`;
      await eventually(
        async () => {
          const state = (await (await fetch(sim)).json()) as { jobs: { Reference: string; State: string }[] };
          return state.jobs.some((j) => j.Reference === reference && j.State === 'Successful');
        },
        30_000,
        'a Successful simulator job',
      );
      const follow = out.split('\n').find((l) => l.startsWith('curl -sS http')) as string;
      const auth = /'Authorization: ([^']+)'/.exec(follow)?.[1] as string;
      const trailUrl = /curl -sS (\S+)/.exec(follow)?.[1] as string;
      await eventually(
        async () =>
          (
            (await (await fetch(trailUrl, { headers: { authorization: auth } })).json()) as {
              entries?: { type: string }[];
            }
          ).entries?.some((e) => e.type === 'succeeded') ?? false,
        15_000,
        'the audit trail shows success',
      );
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);
  });
});
