import type { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { type Operation, OrchestratorError } from './errors.js';
import { type Folder, folderLabel, odataString } from './folders.js';
import { createHttp, type FetchLike } from './http.js';
import { createLocalPacer, createRedisPacer, type Pacer } from './pacing.js';
import { createTokenProvider } from './token.js';
import {
  DUPLICATE_REFERENCE_ERROR_CODE,
  type JobDto,
  MAX_INPUT_ARGUMENTS_CHARS,
  MAX_REFERENCE_CHARS,
  type ODataCollection,
  type Priority,
  type QueueItemDto,
  type ReleaseDto,
} from './types.js';

export interface OrchestratorClientOptions {
  /** e.g. `https://cloud.uipath.com/{org}/{tenant}/orchestrator_` or an on-prem `https://host`. */
  baseUrl: string;
  /** e.g. `https://cloud.uipath.com/{org}/identity_/connect/token` or `https://host/identity/connect/token`. */
  tokenUrl: string;
  clientId: string;
  /** A function when the secret can rotate (read at every token request). */
  clientSecret: string | (() => string);
  /** Default `OR.Jobs OR.Execution OR.Folders.Read OR.Queues`. */
  scopes?: readonly string[];
  /** Injected for tests; default: undici with keep-alive connections. */
  fetch?: FetchLike;
  now?: () => number;
  /** Per-request timeout (default 30 s): a hung call never holds a worker slot forever. */
  timeoutMs?: number;
  /** How long a resolved ReleaseKey is reused (default 5 min). */
  releaseCacheTtlMs?: number;
  /** Collection queries (`GET /odata/Jobs?$filter`, `/odata/QueueItems?$filter`) per minute (default 100). */
  collectionQueriesPerMinute?: number;
  /** With a Redis client, that budget is shared by every worker through `pacingKey`. */
  redis?: Redis;
  pacingKey?: string;
  /** Longest the client waits for a pacing token before failing `retryable` (default 2 s). */
  maxPacingWaitMs?: number;
  onCall?: (operation: Operation, status: number | 'error', seconds: number) => void;
  onTokenRefresh?: () => void;
  /** How a Reference (correlationId) appears in trace attributes; default as is. */
  traceReference?: (reference: string) => string;
}

export interface StartJobRequest {
  folder: Folder;
  /** Resolved to a ReleaseKey through `GET /odata/Releases` (cached). */
  processKey: string;
  inputArguments: Record<string, unknown>;
  /** Orchestrator Reference (≤ 128): the correlationId. */
  reference: string;
  priority?: Priority;
  signal?: AbortSignal;
}

export interface AddQueueItemRequest {
  folder: Folder;
  queueName: string;
  specificContent: Record<string, unknown>;
  reference: string;
  priority?: Priority;
  signal?: AbortSignal;
}

export type AddQueueItemResult = { duplicate: false; item: QueueItemDto } | { duplicate: true; message: string };

const DEFAULT_SCOPES = ['OR.Jobs', 'OR.Execution', 'OR.Folders.Read', 'OR.Queues'];

const permanent = (operation: Operation, message: string) =>
  new OrchestratorError(message, { kind: 'permanent', operation });

function checkReference(operation: Operation, reference: string) {
  if (reference.length === 0 || reference.length > MAX_REFERENCE_CHARS) {
    throw permanent(operation, `Reference must be 1-${MAX_REFERENCE_CHARS} characters (is ${reference.length})`);
  }
}

/**
 * undici's `request` over a keep-alive pool, shaped like the slice of fetch the
 * client uses (several times cheaper per call than undici's fetch).
 */
export function undiciTransport(dispatcher: Agent): FetchLike {
  return async (url, init) => {
    const res = await request(url, {
      method: init.method as 'GET' | 'POST',
      headers: init.headers,
      body: init.body ?? null,
      signal: init.signal ?? null,
      dispatcher,
    });
    return {
      status: res.statusCode,
      ok: res.statusCode >= 200 && res.statusCode < 300,
      headers: {
        get(name: string) {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
      },
      text: () => res.body.text(),
    };
  };
}

export function createOrchestratorClient(o: OrchestratorClientOptions) {
  const now = o.now ?? Date.now;
  let agent: Agent | undefined;
  let fetchImpl = o.fetch;
  if (!fetchImpl) {
    agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
    fetchImpl = undiciTransport(agent);
  }
  const timeoutMs = o.timeoutMs ?? 30_000;
  const tokenOptions: Parameters<typeof createTokenProvider>[0] = {
    tokenUrl: o.tokenUrl,
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    scopes: o.scopes ?? DEFAULT_SCOPES,
    fetch: fetchImpl,
    now,
    timeoutMs,
  };
  if (o.onTokenRefresh) tokenOptions.onRefresh = o.onTokenRefresh;
  const tokens = createTokenProvider(tokenOptions);
  const httpDeps: Parameters<typeof createHttp>[0] = { baseUrl: o.baseUrl, fetch: fetchImpl, tokens, now, timeoutMs };
  if (o.onCall) httpDeps.onCall = o.onCall;
  if (o.traceReference) httpDeps.traceReference = o.traceReference;
  const call = createHttp(httpDeps);

  const pacing = { perMinute: o.collectionQueriesPerMinute ?? 100 };
  const pacer: Pacer = o.redis
    ? createRedisPacer(o.redis, o.pacingKey ?? 'rpa-bridge:orchestrator-pacing', pacing)
    : createLocalPacer({ ...pacing, now });
  const maxPacingWaitMs = o.maxPacingWaitMs ?? 2_000;

  async function paced(operation: Operation): Promise<void> {
    const deadline = now() + maxPacingWaitMs;
    for (;;) {
      const wait = await pacer.take();
      if (wait === 0) return;
      if (now() + wait > deadline) {
        throw new OrchestratorError('the collection-query budget is used up for now', {
          kind: 'retryable',
          operation,
          retryAfterMs: wait,
        });
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  const releaseCacheTtlMs = o.releaseCacheTtlMs ?? 300_000;
  const releases = new Map<string, { key: string; until: number }>();

  async function resolveReleaseKey(processKey: string, folder: Folder, signal?: AbortSignal): Promise<string> {
    const cacheKey = `${folderLabel(folder)}|${processKey}`;
    const hit = releases.get(cacheKey);
    if (hit && hit.until > now()) return hit.key;
    const req: Parameters<typeof call>[0] = {
      operation: 'releases',
      method: 'GET',
      path: '/odata/Releases',
      query: { $filter: `ProcessKey eq ${odataString(processKey)}`, $top: '2' },
      folder,
    };
    if (signal) req.signal = signal;
    const { body } = await call<ODataCollection<ReleaseDto>>(req);
    const release = body?.value?.[0];
    if (!release?.Key)
      throw permanent('releases', `no release of process ${processKey} in folder ${folderLabel(folder)}`);
    releases.set(cacheKey, { key: release.Key, until: now() + releaseCacheTtlMs });
    return release.Key;
  }

  return {
    resolveReleaseKey,

    /** StartJobs with Strategy ModernJobsCount, one job, Reference = the correlationId. */
    async startJob(r: StartJobRequest): Promise<JobDto> {
      checkReference('startJob', r.reference);
      const inputArguments = JSON.stringify(r.inputArguments);
      if (inputArguments.length > MAX_INPUT_ARGUMENTS_CHARS) {
        throw permanent(
          'startJob',
          `InputArguments is ${inputArguments.length} characters; Orchestrator allows ${MAX_INPUT_ARGUMENTS_CHARS}`,
        );
      }
      const releaseKey = await resolveReleaseKey(r.processKey, r.folder, r.signal);
      const startInfo: Record<string, unknown> = {
        ReleaseKey: releaseKey,
        Strategy: 'ModernJobsCount',
        JobsCount: 1,
        InputArguments: inputArguments,
        Reference: r.reference,
      };
      if (r.priority) startInfo.JobPriority = r.priority;
      const req: Parameters<typeof call>[0] = {
        operation: 'startJob',
        method: 'POST',
        path: '/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs',
        folder: r.folder,
        body: { startInfo },
        reference: r.reference,
      };
      if (r.signal) req.signal = r.signal;
      const { body } = await call<ODataCollection<JobDto>>(req);
      const job = body?.value?.[0];
      if (!job || typeof job.Id !== 'number') {
        // Accepted but unreadable: the job may exist, so a retry must look the Reference up first.
        throw new OrchestratorError('StartJobs answered without a job', { kind: 'ambiguous', operation: 'startJob' });
      }
      return job;
    },

    /** AddQueueItem; a duplicate Reference (errorCode 1016, any 4xx) is reported as `duplicate: true`. */
    async addQueueItem(r: AddQueueItemRequest): Promise<AddQueueItemResult> {
      checkReference('addQueueItem', r.reference);
      const itemData: Record<string, unknown> = {
        Name: r.queueName,
        SpecificContent: r.specificContent,
        Reference: r.reference,
      };
      if (r.priority) itemData.Priority = r.priority;
      const req: Parameters<typeof call>[0] = {
        operation: 'addQueueItem',
        method: 'POST',
        path: '/odata/Queues/UiPathODataSvc.AddQueueItem',
        folder: r.folder,
        body: { itemData },
        reference: r.reference,
      };
      if (r.signal) req.signal = r.signal;
      try {
        const { body } = await call<QueueItemDto>(req);
        return { duplicate: false, item: body };
      } catch (err) {
        if (
          err instanceof OrchestratorError &&
          err.errorCode === DUPLICATE_REFERENCE_ERROR_CODE &&
          err.status !== undefined &&
          err.status >= 400 &&
          err.status < 500
        ) {
          return { duplicate: true, message: err.message };
        }
        throw err;
      }
    },

    /** `GET /odata/Jobs({id})`: not a collection query, so not paced. */
    async getJob(id: number, folder: Folder, signal?: AbortSignal): Promise<JobDto> {
      const req: Parameters<typeof call>[0] = {
        operation: 'getJob',
        method: 'GET',
        path: `/odata/Jobs(${id})`,
        folder,
      };
      if (signal) req.signal = signal;
      return (await call<JobDto>(req)).body;
    },

    /** `GET /odata/Jobs?$filter=Reference eq '…'`, paced by the collection-query budget. */
    async findJobsByReference(reference: string, folder: Folder, signal?: AbortSignal): Promise<JobDto[]> {
      checkReference('findJobs', reference);
      await paced('findJobs');
      const req: Parameters<typeof call>[0] = {
        operation: 'findJobs',
        method: 'GET',
        path: '/odata/Jobs',
        query: { $filter: `Reference eq ${odataString(reference)}`, $top: '10', $orderby: 'CreationTime desc' },
        folder,
        reference,
      };
      if (signal) req.signal = signal;
      return (await call<ODataCollection<JobDto>>(req)).body?.value ?? [];
    },

    /** `GET /odata/QueueItems?$filter=Reference eq '…'`, paced like jobs. */
    async findQueueItemsByReference(reference: string, folder: Folder, signal?: AbortSignal): Promise<QueueItemDto[]> {
      checkReference('findQueueItems', reference);
      await paced('findQueueItems');
      const req: Parameters<typeof call>[0] = {
        operation: 'findQueueItems',
        method: 'GET',
        path: '/odata/QueueItems',
        query: { $filter: `Reference eq ${odataString(reference)}`, $top: '10' },
        folder,
        reference,
      };
      if (signal) req.signal = signal;
      return (await call<ODataCollection<QueueItemDto>>(req)).body?.value ?? [];
    },

    async close(): Promise<void> {
      await agent?.close();
    },
  };
}

export type OrchestratorClient = ReturnType<typeof createOrchestratorClient>;
