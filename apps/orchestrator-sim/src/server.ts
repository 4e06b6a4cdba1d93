import type { HttpBindings } from '@hono/node-server';
import type { Route } from '@rpa-bridge/core';
import { type Context, Hono } from 'hono';
import { type FaultRule, FaultTable, type SimOperation } from './faults.js';
import { applyFilter, NOT_AUTHENTICATED, orchestratorError, parseFilter } from './odata.js';
import { type SimFolder, type SimSettings, SimState } from './state.js';

export interface SimulatorOptions {
  settings: SimSettings;
  clientId: string;
  clientSecret: string;
  /** Folders, processes and queues named by these routes are seeded. */
  routes?: readonly Route[];
}

export interface SeedSpec {
  folders?: { path?: string; id?: number; key?: string }[];
  processes?: { processKey: string; folder: { path?: string; id?: number; key?: string } }[];
  queues?: { name: string; folder: { path?: string; id?: number; key?: string } }[];
}

export function seedFromRoutes(routes: readonly Route[]): SeedSpec {
  const spec: Required<SeedSpec> = { folders: [], processes: [], queues: [] };
  for (const r of routes) {
    const t = r.target;
    const folder: { path?: string; id?: number; key?: string } = {};
    if (t.folderPath !== undefined) folder.path = t.folderPath;
    if (t.folderId !== undefined) folder.id = t.folderId;
    if (t.folderKey !== undefined) folder.key = t.folderKey;
    spec.folders.push(folder);
    if (t.kind === 'job') spec.processes.push({ processKey: t.processKey, folder });
    else spec.queues.push({ name: t.queueName, folder });
  }
  return spec;
}

class HttpFailure {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Bodies for injected faults, in Orchestrator's words. */
const FAULT_BODIES: Record<number, [string, number]> = {
  400: ['Invalid request!', 1000],
  403: ['You are not authorized!', 0],
  404: ['Release does not exist.', 1002],
  409: ['Conflict.', 1000],
  429: ['Too many requests.', 1000],
};

const bad = (message: string, errorCode: number, status = 400) =>
  new HttpFailure(status, orchestratorError(message, errorCode));

/** Destroys the client's socket: the response never arrives. */
function dropConnection(c: Context): Response {
  (c.env as HttpBindings | undefined)?.incoming?.socket?.destroy();
  return new Response(null, { status: 500 });
}

/**
 * A local stand-in for UiPath Orchestrator (Automation Cloud paths and
 * on-prem paths), with OData envelopes, Orchestrator error bodies, robot
 * capacity, the collection-query rate limit and fault injection.
 */
export function createSimulator(o: SimulatorOptions) {
  const state = new SimState(o.settings);
  const faults = new FaultTable();
  let windowStart = 0;
  let windowCount = 0;

  function seed(spec: SeedSpec) {
    for (const f of spec.folders ?? []) state.ensureFolder(f);
    for (const p of spec.processes ?? []) state.ensureRelease(p.processKey, state.ensureFolder(p.folder));
    for (const q of spec.queues ?? []) state.ensureQueue(q.name, state.ensureFolder(q.folder));
  }
  if (o.routes) seed(seedFromRoutes(o.routes));

  const context = (c: Context, entity: string) => {
    const url = new URL(c.req.url);
    const i = url.pathname.indexOf('/odata/');
    return `${url.origin}${url.pathname.slice(0, i)}/odata/$metadata#${entity}`;
  };

  function folderOf(c: Context): SimFolder {
    const id = c.req.header('x-uipath-organizationunitid');
    const key = c.req.header('x-uipath-folderkey');
    const path = c.req.header('x-uipath-folderpath');
    const encoded = c.req.header('x-uipath-folderpath-encoded');
    let folder: SimFolder | undefined;
    if (id !== undefined) folder = /^\d+$/.test(id) ? state.folders.find((f) => f.Id === Number(id)) : undefined;
    else if (key !== undefined) folder = state.folders.find((f) => f.Key.toLowerCase() === key.toLowerCase());
    else if (path !== undefined || encoded !== undefined) {
      const p = path ?? Buffer.from(encoded as string, 'base64').toString('utf16le');
      folder = state.folders.find(
        (f) => f.FullyQualifiedName.toLowerCase() === p.replace(/^\/+|\/+$/g, '').toLowerCase(),
      );
    } else throw bad('A folder is required for this action.', 1101);
    if (!folder) throw bad('Folder does not exist or the user does not have access to the folder.', 1100);
    return folder;
  }

  function rateLimit() {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount++;
    if (windowCount > state.settings.collectionLimitPerMinute) {
      state.stats.rateLimited++;
      const headers: Record<string, string> = {};
      const wait = state.settings.rateLimitRetryAfterSeconds;
      if (wait > 0) headers['Retry-After'] = String(wait);
      throw new HttpFailure(429, orchestratorError('Too many requests.', 1000), headers);
    }
  }

  /** Runs a handler under the fault table: reject / reset before, fail / reset after. */
  async function withFaults(
    c: Context,
    op: SimOperation,
    handle: () => Promise<Response> | Response,
  ): Promise<Response> {
    state.stats.requests[op] = (state.stats.requests[op] ?? 0) + 1;
    // Only rules with `match` need the request text; reading a body copy costs more than the request.
    const text = faults.needsText(op)
      ? `${c.req.url} ${c.req.method === 'POST' ? await c.req.raw.clone().text() : ''}`
      : '';
    const rule: FaultRule | undefined = faults.take(op, text);
    if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    const failWith = (r: FaultRule) => {
      if (r.retryAfter !== undefined) c.header('Retry-After', String(r.retryAfter));
      const status = r.status ?? 500;
      const [message, code] =
        FAULT_BODIES[status] ?? (status >= 500 ? ['An error has occurred.', 0] : ['Invalid request!', 1000]);
      return c.json(orchestratorError(message, code), status as 500);
    };
    if (rule?.mode === 'reject') return failWith(rule);
    if (rule?.mode === 'reset') return dropConnection(c);
    let res: Response;
    try {
      res = await handle();
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      res = c.json(err.body, err.status as 400);
    }
    if (rule?.mode === 'accept-then-fail') return failWith(rule);
    if (rule?.mode === 'accept-then-reset') return dropConnection(c);
    return res;
  }

  function requireToken(c: Context) {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!m || !state.tokenValid(m[1] as string)) throw new HttpFailure(401, NOT_AUTHENTICATED);
  }

  const app = new Hono();

  // ---- identity server (Automation Cloud org-scoped and bare, on-prem) ----
  const token = (c: Context) =>
    withFaults(c, 'token', async () => {
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      if (form.grant_type !== 'client_credentials') {
        return c.json({ error: 'unsupported_grant_type' }, 400);
      }
      if (form.client_id !== o.clientId || form.client_secret !== o.clientSecret) {
        return c.json({ error: 'invalid_client' }, 400);
      }
      const { token: accessToken, expiresIn } = state.issueToken();
      return c.json({
        access_token: accessToken,
        expires_in: expiresIn,
        token_type: 'Bearer',
        scope: typeof form.scope === 'string' ? form.scope : 'OR.Jobs OR.Execution OR.Folders.Read OR.Queues',
      });
    });
  app.post('/identity_/connect/token', token);
  app.post('/identity/connect/token', token);
  app.post('/:org/identity_/connect/token', token);

  // ---- Orchestrator OData, under / and /{org}/{tenant}/orchestrator_/ ----
  const odata = new Hono();
  odata.get('/odata/Releases', (c) =>
    withFaults(c, 'releases', () => {
      requireToken(c);
      const folder = folderOf(c);
      const filter = parseFilter(c.req.query('$filter'));
      if (!filter) throw bad('Invalid request!', 1000);
      const value = applyFilter(
        state.releases.filter((r) => r.OrganizationUnitId === folder.Id),
        filter,
      );
      return c.json({ '@odata.context': context(c, 'Releases'), '@odata.count': value.length, value });
    }),
  );
  odata.get('/odata/Folders', (c) =>
    withFaults(c, 'folders', () => {
      requireToken(c);
      const filter = parseFilter(c.req.query('$filter'));
      if (!filter) throw bad('Invalid request!', 1000);
      const value = applyFilter(state.folders, filter);
      return c.json({ '@odata.context': context(c, 'Folders'), '@odata.count': value.length, value });
    }),
  );
  odata.post('/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs', (c) =>
    withFaults(c, 'startJobs', async () => {
      requireToken(c);
      const folder = folderOf(c);
      const body = (await c.req.json().catch(() => undefined)) as { startInfo?: Record<string, unknown> } | undefined;
      const si = body?.startInfo;
      if (!si || typeof si !== 'object') throw bad('startInfo is required.', 1000);
      const release = state.releases.find(
        (r) =>
          r.OrganizationUnitId === folder.Id &&
          (si.ReleaseKey !== undefined ? r.Key === si.ReleaseKey : r.Name === si.ReleaseName),
      );
      if (!release) throw bad('Release does not exist.', 1002, 404);
      const strategy = si.Strategy ?? 'ModernJobsCount';
      if (!['All', 'Specific', 'RobotCount', 'JobsCount', 'ModernJobsCount'].includes(String(strategy))) {
        throw bad('Invalid Strategy.', 1009);
      }
      const count = si.JobsCount === undefined ? 1 : Number(si.JobsCount);
      if (!Number.isInteger(count) || count < 1) throw bad('JobsCount must be a positive number.', 1009);
      const args = si.InputArguments;
      if (args !== undefined && args !== null) {
        if (typeof args !== 'string') throw bad('InputArguments must be a JSON string.', 1009);
        if (args.length > 10_000)
          throw bad('The field InputArguments must be a string with a maximum length of 10000.', 1009);
        try {
          const parsed = JSON.parse(args);
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        } catch {
          throw bad('InputArguments is not a valid JSON object.', 1009);
        }
      }
      const ref = si.Reference;
      if (ref !== undefined && ref !== null && (typeof ref !== 'string' || ref.length > 128)) {
        throw bad('The field Reference must be a string with a maximum length of 128.', 1009);
      }
      const startInfo: { InputArguments?: string; Reference?: string; JobPriority?: string } = {};
      if (typeof args === 'string') startInfo.InputArguments = args;
      if (typeof ref === 'string') startInfo.Reference = ref;
      if (typeof si.JobPriority === 'string') startInfo.JobPriority = si.JobPriority;
      const value = Array.from({ length: count }, () => publicJob(state.createJob(release, folder, startInfo)));
      return c.json({ '@odata.context': context(c, 'Jobs'), value }, 201);
    }),
  );
  odata.get('/odata/Jobs', (c) =>
    withFaults(c, 'findJobs', () => {
      requireToken(c);
      const folder = folderOf(c);
      rateLimit();
      const filter = parseFilter(c.req.query('$filter'));
      if (!filter) throw bad('Invalid request!', 1000);
      const top = Math.min(Number(c.req.query('$top') ?? 1000) || 1000, 1000);
      const value = applyFilter(
        state.jobs.filter((j) => j.OrganizationUnitId === folder.Id),
        filter,
      )
        .sort((a, b) => b.Id - a.Id)
        .slice(0, top)
        .map(publicJob);
      const out: Record<string, unknown> = { '@odata.context': context(c, 'Jobs'), value };
      if (c.req.query('$count') === 'true') out['@odata.count'] = value.length;
      return c.json(out);
    }),
  );
  odata.get('/odata/:entity{Jobs\\(\\d+\\)}', (c) =>
    withFaults(c, 'getJob', () => {
      requireToken(c);
      const folder = folderOf(c);
      const id = Number(/\((\d+)\)/.exec(c.req.param('entity'))?.[1]);
      const job = state.jobs.find((j) => j.Id === id && j.OrganizationUnitId === folder.Id);
      if (!job) throw bad('Job does not exist.', 1002, 404);
      return c.json({ '@odata.context': context(c, 'Jobs/$entity'), ...publicJob(job) });
    }),
  );
  odata.post('/odata/Queues/UiPathODataSvc.AddQueueItem', (c) =>
    withFaults(c, 'addQueueItem', async () => {
      requireToken(c);
      const folder = folderOf(c);
      const body = (await c.req.json().catch(() => undefined)) as { itemData?: Record<string, unknown> } | undefined;
      const d = body?.itemData;
      if (!d || typeof d.Name !== 'string') throw bad('itemData.Name is required.', 1000);
      const queue = state.queues.find(
        (q) => q.OrganizationUnitId === folder.Id && q.Name.toLowerCase() === (d.Name as string).toLowerCase(),
      );
      if (!queue) throw bad('Queue does not exist.', 1002, 404);
      const ref = typeof d.Reference === 'string' ? d.Reference : undefined;
      if (ref !== undefined && ref.length > 128)
        throw bad('The field Reference must be a string with a maximum length of 128.', 1009);
      if (
        ref !== undefined &&
        queue.EnforceUniqueReference &&
        state.queueItems.some((i) => i.QueueDefinitionId === queue.Id && i.Reference === ref)
      ) {
        throw new HttpFailure(
          state.settings.duplicateReferenceStatus,
          orchestratorError('Error creating Transaction. Duplicate Reference.', 1016),
        );
      }
      const data: Parameters<SimState['createQueueItem']>[2] = {};
      if (typeof d.Priority === 'string') data.Priority = d.Priority;
      if (d.SpecificContent && typeof d.SpecificContent === 'object')
        data.SpecificContent = d.SpecificContent as Record<string, unknown>;
      if (ref !== undefined) data.Reference = ref;
      const item = state.createQueueItem(queue, folder, data);
      return c.json({ '@odata.context': context(c, 'QueueItems/$entity'), ...item }, 201);
    }),
  );
  odata.get('/odata/QueueItems', (c) =>
    withFaults(c, 'findQueueItems', () => {
      requireToken(c);
      const folder = folderOf(c);
      rateLimit();
      const filter = parseFilter(c.req.query('$filter'));
      if (!filter) throw bad('Invalid request!', 1000);
      const value = applyFilter(
        state.queueItems.filter((i) => i.OrganizationUnitId === folder.Id),
        filter,
      );
      return c.json({ '@odata.context': context(c, 'QueueItems'), value });
    }),
  );
  odata.get('/odata/:entity{QueueItems\\(\\d+\\)}', (c) =>
    withFaults(c, 'getQueueItem', () => {
      requireToken(c);
      const folder = folderOf(c);
      const id = Number(/\((\d+)\)/.exec(c.req.param('entity'))?.[1]);
      const item = state.queueItems.find((i) => i.Id === id && i.OrganizationUnitId === folder.Id);
      if (!item) throw bad('Queue item does not exist.', 1002, 404);
      return c.json({ '@odata.context': context(c, 'QueueItems/$entity'), ...item });
    }),
  );
  app.route('/', odata);
  app.route('/:org/:tenant/orchestrator_', odata);

  // ---- control API for tests (not part of Orchestrator) ----
  app.get('/__sim/state', (c) =>
    c.json({
      settings: state.settings,
      stats: state.stats,
      folders: state.folders,
      releases: state.releases,
      queues: state.queues,
      jobs: state.jobs,
      queueItems: state.queueItems,
      faults: faults.list(),
    }),
  );
  app.post('/__sim/reset', (c) => {
    state.reset();
    faults.clear();
    windowStart = 0;
    windowCount = 0;
    return c.json({ status: 'reset' });
  });
  app.post('/__sim/faults', async (c) => {
    const body = (await c.req.json()) as FaultRule | FaultRule[];
    for (const rule of Array.isArray(body) ? body : [body]) faults.add(rule);
    return c.json({ faults: faults.list() }, 201);
  });
  app.delete('/__sim/faults', (c) => {
    faults.clear();
    return c.json({ faults: [] });
  });
  app.post('/__sim/settings', async (c) => {
    Object.assign(state.settings, (await c.req.json()) as Partial<SimSettings>);
    state.pump();
    return c.json({ settings: state.settings });
  });
  app.post('/__sim/tokens/expire', (c) => {
    state.expireTokens();
    return c.json({ status: 'expired' });
  });
  app.post('/__sim/job-outcomes', async (c) => {
    const { outcomes } = (await c.req.json()) as { outcomes: ('Faulted' | 'Stopped' | 'Successful')[] };
    state.forcedOutcomes.push(...outcomes);
    return c.json({ pending: state.forcedOutcomes });
  });
  app.post('/__sim/seed', async (c) => {
    seed((await c.req.json()) as SeedSpec);
    return c.json({ folders: state.folders, releases: state.releases, queues: state.queues });
  });

  app.notFound((c) => c.json(orchestratorError('Resource not found.', 1002), 404));
  app.onError((err, c) => {
    if (err instanceof HttpFailure) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(err.body, err.status as 400);
    }
    return c.json(orchestratorError('An error has occurred.', 0), 500);
  });

  return { app, state, faults, seed };
}

/** JobDto as Orchestrator returns it (without the simulator's bookkeeping field). */
function publicJob(job: SimState['jobs'][number]) {
  const { ReleaseKey: _releaseKey, ...dto } = job;
  return dto;
}

export type Simulator = ReturnType<typeof createSimulator>;
