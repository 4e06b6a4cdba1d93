import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/redis-server.js';
import { SIM_CLIENT, startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';

const ROOT = join(import.meta.dirname, '../../..');
const FOLDER = { 'X-UIPATH-FolderPath': 'Shared/Sim' };

async function token(url: string, path = '/acme/identity_/connect/token'): Promise<string> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SIM_CLIENT.clientId,
      client_secret: SIM_CLIENT.clientSecret,
      scope: 'OR.Jobs OR.Execution',
    }),
  });
  const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string; scope: string };
  expect(res.status).toBe(200);
  expect(body).toMatchObject({ expires_in: 3600, token_type: 'Bearer', scope: 'OR.Jobs OR.Execution' });
  return body.access_token;
}

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Orchestrator simulator: shapes as in the API notes', () => {
  let s: TestSimulator;
  let bearer: Record<string, string>;
  const base = () => `${s.url}/acme/DefaultTenant/orchestrator_`;
  beforeAll(async () => {
    s = await startTestSimulator({ settings: { robots: 2, jobMs: 150 } });
    s.sim.seed({
      processes: [{ processKey: 'SimProcess', folder: { path: 'Shared/Sim' } }],
      queues: [{ name: 'SimQueue', folder: { path: 'Shared/Sim' } }],
    });
    bearer = { authorization: `Bearer ${await token(s.url)}` };
  });
  afterAll(() => s.close());

  it('answers the token endpoint on every documented path, and refuses a bad client', async () => {
    for (const p of ['/identity_/connect/token', '/identity/connect/token'])
      expect(await token(s.url, p)).toMatch(/^sim_/);
    const bad = await fetch(`${s.url}/identity_/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=x&client_secret=y',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_client' });
  });

  it('401 with the ABP body without a valid bearer', async () => {
    const res = await fetch(`${base()}/odata/Releases`, { headers: { ...FOLDER, authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      message: 'You are not authenticated!',
      success: false,
      unAuthorizedRequest: false,
      __abp: true,
      error: { code: 0 },
    });
  });

  it('folder header rules: 400 errorCode 1101 when missing, 1100 when unknown', async () => {
    const missing = await fetch(`${base()}/odata/Releases`, { headers: bearer });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      message: 'A folder is required for this action.',
      errorCode: 1101,
      traceId: expect.stringMatching(/^00-/),
    });
    const unknown = await fetch(`${base()}/odata/Releases`, {
      headers: { ...bearer, 'X-UIPATH-FolderKey': '00000000-0000-0000-0000-000000000000' },
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errorCode: number }).errorCode).toBe(1100);
  });

  it('Releases and StartJobs use the OData envelopes; jobs go Pending → Running → Successful within robot capacity', async () => {
    const rel = await fetch(`${base()}/odata/Releases?$filter=${encodeURIComponent("ProcessKey eq 'SimProcess'")}`, {
      headers: { ...bearer, ...FOLDER },
    });
    const releases = (await rel.json()) as {
      '@odata.context': string;
      '@odata.count': number;
      value: { Key: string; ProcessKey: string; OrganizationUnitId: number }[];
    };
    expect(releases['@odata.context']).toBe(`${base()}/odata/$metadata#Releases`);
    expect(releases['@odata.count']).toBe(1);
    const releaseKey = releases.value[0]?.Key;
    const start = async (ref: string) => {
      const res = await fetch(`${base()}/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs`, {
        method: 'POST',
        headers: { ...bearer, ...FOLDER, 'content-type': 'application/json' },
        body: JSON.stringify({
          startInfo: {
            ReleaseKey: releaseKey,
            Strategy: 'ModernJobsCount',
            JobsCount: 1,
            InputArguments: '{"a":1}',
            Reference: ref,
            JobPriority: 'Normal',
          },
        }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { '@odata.context': string; value: Record<string, unknown>[] };
      expect(body['@odata.context']).toBe(`${base()}/odata/$metadata#Jobs`);
      return body.value[0] as { Id: number; Key: string; State: string; Reference: string };
    };
    const jobs = [await start('s1'), await start('s2'), await start('s3')];
    for (const j of jobs)
      expect(j).toMatchObject({
        State: 'Pending',
        Reference: expect.any(String),
        Key: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    await waitFor(() => s.sim.state.jobs.filter((j) => j.State === 'Running').length === 2);
    expect(s.sim.state.jobs.find((j) => j.Id === jobs[2]?.Id)?.State).toBe('Pending'); // only two robots
    await waitFor(() => jobs.every((j) => s.sim.state.jobs.find((x) => x.Id === j.Id)?.State === 'Successful'));
    const one = await fetch(`${base()}/odata/Jobs(${jobs[0]?.Id})`, { headers: { ...bearer, ...FOLDER } });
    const dto = (await one.json()) as Record<string, unknown>;
    expect(dto).toMatchObject({
      '@odata.context': `${base()}/odata/$metadata#Jobs/$entity`,
      State: 'Successful',
      Info: 'Job completed',
      InputArguments: '{"a":1}',
      OutputArguments: '{}',
    });
    expect(dto).not.toHaveProperty('value');
    expect(typeof dto.StartTime).toBe('string');
    const byRef = await fetch(`${base()}/odata/Jobs?$filter=${encodeURIComponent("Reference eq 's2'")}`, {
      headers: { ...bearer, ...FOLDER },
    });
    expect(((await byRef.json()) as { value: { Id: number }[] }).value.map((j) => j.Id)).toEqual([jobs[1]?.Id]);
  });

  it('validates InputArguments as a JSON string of at most 10,000 characters', async () => {
    const releaseKey = s.sim.state.releases[0]?.Key;
    const res = await fetch(`${s.url}/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs`, {
      method: 'POST',
      headers: { ...bearer, ...FOLDER, 'content-type': 'application/json' },
      body: JSON.stringify({ startInfo: { ReleaseKey: releaseKey, InputArguments: { a: 1 } } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/JSON string/);
  });

  it('AddQueueItem answers 201 QueueItemDto, then 409 errorCode 1016 on a duplicate Reference', async () => {
    const add = () =>
      fetch(`${base()}/odata/Queues/UiPathODataSvc.AddQueueItem`, {
        method: 'POST',
        headers: { ...bearer, ...FOLDER, 'content-type': 'application/json' },
        body: JSON.stringify({
          itemData: { Name: 'SimQueue', Priority: 'High', SpecificContent: { A: 'b' }, Reference: 'qref-1' },
        }),
      });
    const first = await add();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      Status: 'New',
      Reference: 'qref-1',
      Priority: 'High',
      SpecificContent: { A: 'b' },
      SpecificData: '{"A":"b"}',
    });
    const dup = await add();
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({
      message: 'Error creating Transaction. Duplicate Reference.',
      errorCode: 1016,
    });
  });
});

describe('pnpm start:sim', () => {
  it('prints its URL and credentials, serves, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn('node', ['--conditions=source', '--import', 'tsx', 'apps/orchestrator-sim/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, SIM_PORT: String(port), ROUTES_FILE: 'config/routes.example.yaml', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    try {
      await waitFor(() => out.includes('client secret'), 20_000);
      expect(out).toContain(`http://127.0.0.1:${port}`);
      expect(out).toContain('client id: rpa-bridge-sim');
      const res = await fetch(`http://127.0.0.1:${port}/__sim/state`);
      const state = (await res.json()) as { releases: { ProcessKey: string }[]; queues: { Name: string }[] };
      expect(state.releases.map((r) => r.ProcessKey).sort()).toEqual(['BackOfficeAccountUpdate', 'WrapUpFollowUp']);
      expect(state.queues.map((q) => q.Name)).toEqual(['ContactCenterInbound']);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
