import { type RedisConfig, readEncryptionKeys, readRedisConfig } from './config.js';
import { type Env, EnvReader, type ReadFile } from './env.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface OrchestratorConfig {
  /** `UIPATH_BASE_URL`; unset means the local simulator (`http://127.0.0.1:${SIM_PORT}`). */
  baseUrl: string;
  /** `UIPATH_TOKEN_URL`; derived from the base URL when unset (Automation Cloud or on-prem form). */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** `UIPATH_SCOPES`, space- or comma-separated. */
  scopes: string[];
  /** True when no `UIPATH_BASE_URL` was given and the simulator is the target. */
  simulator: boolean;
  /** `ORCHESTRATOR_TIMEOUT_MS`: per request (default 30 s). */
  timeoutMs: number;
  /** `ORCHESTRATOR_COLLECTION_LIMIT`: Jobs/QueueItems collection queries per minute per tenant (default 100). */
  collectionQueriesPerMinute: number;
  /** `TENANT_RATE_LIMIT`: robot starts per second across all workers (default off). */
  startsPerSecond: number | undefined;
}

export interface WorkerConfig {
  redis: RedisConfig;
  routesFile: string;
  logLevel: (typeof LOG_LEVELS)[number];
  orchestrator: OrchestratorConfig;
  /** `WORKER_CONCURRENCY`: jobs one process runs at once per route (capped by the route's own concurrency). */
  concurrency: number;
  /** `WORKER_METRICS_PORT` (default 9464); `/metrics` and `/healthz`. */
  metricsPort: number;
  /** `TRACK_COMPLETION`: hold the job until the robot finishes, polling `GET /odata/Jobs({id})`. */
  trackCompletion: boolean;
  /** `BACKOFF_BASE_MS` (1 s) and `BACKOFF_MAX_MS` (5 min): exponential with jitter, capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * `AMBIGUOUS_SETTLE_MS` (default 15 s): the least wait before retrying a start
   * that got no answer (timeout, reset) or a gateway's 408/502/504/524. Such a
   * request can still land at Orchestrator; the retry's Reference lookup must come
   * after it could have, or it misses and a second robot job starts. (A stalled
   * re-run waits WORKER_LOCK_MS or more, which plays the same role.)
   */
  ambiguousSettleMs: number;
  /** `MAX_STARTED_ATTEMPTS`: bound on starts including Retry-After delays and stalls (default 50). */
  maxStartedAttempts: number;
  /** `WORKER_LOCK_MS`: BullMQ lock; a killed worker's jobs are re-run after about this long (default 30 s). */
  lockMs: number;
  /** `WORKER_MAX_STALLS`: how often a job may stall (worker died) before it is dead-lettered (default 5). */
  maxStalledCount: number;
  /** `SHUTDOWN_TIMEOUT_MS`: SIGTERM drain deadline (default 25 s). */
  shutdownTimeoutMs: number;
  /** `SLA_SECONDS`: event timestamp → Orchestrator accepted (default 30). */
  slaSeconds: number;
  auditTtlMs: number;
  piiFields: string[];
  encryptionKeys: Buffer[];
}

/** Orchestrator's identity server for a base URL: Automation Cloud org-scoped, else on-prem `/identity`. */
export function deriveTokenUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  const m = /^\/([^/]+)\/[^/]+\/orchestrator_\/?$/.exec(u.pathname);
  if (m) return `${u.origin}/${m[1]}/identity_/connect/token`;
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}/identity/connect/token`;
}

export function loadWorkerConfig(env: Env, readFile?: ReadFile): Readonly<WorkerConfig> {
  const r = new EnvReader(env, readFile);
  const routesFile = r.string('ROUTES_FILE');
  r.require(routesFile !== undefined, 'ROUTES_FILE', 'is required (a YAML or JSON routes file)');
  const explicitBase = r.string('UIPATH_BASE_URL');
  const simPort = r.int('SIM_PORT', 8089, { min: 1, max: 65535 });
  const baseUrl = (explicitBase ?? `http://127.0.0.1:${simPort}`).replace(/\/+$/, '');
  let tokenUrl = r.string('UIPATH_TOKEN_URL');
  try {
    new URL(baseUrl);
    tokenUrl ??= deriveTokenUrl(baseUrl);
  } catch {
    r.require(false, 'UIPATH_BASE_URL', 'must be an http(s) URL');
  }
  const clientId =
    r.string('UIPATH_CLIENT_ID') ?? (explicitBase ? undefined : (r.string('SIM_CLIENT_ID') ?? 'rpa-bridge-sim'));
  const clientSecret =
    r.secret('UIPATH_CLIENT_SECRET') ??
    (explicitBase ? undefined : (r.secret('SIM_CLIENT_SECRET') ?? 'rpa-bridge-sim-secret'));
  r.require(clientId !== undefined, 'UIPATH_CLIENT_ID', 'is required with UIPATH_BASE_URL');
  r.require(clientSecret !== undefined, 'UIPATH_CLIENT_SECRET', 'is required with UIPATH_BASE_URL');
  const backoffBaseMs = r.duration('BACKOFF_BASE_MS', 'ms', 1000);
  const backoffMaxMs = r.duration('BACKOFF_MAX_MS', 'ms', 300_000);
  r.require(backoffMaxMs >= backoffBaseMs, 'BACKOFF_MAX_MS', 'must not be below BACKOFF_BASE_MS');
  const dedupeTtlMs = r.duration('DEDUPE_TTL', 's', 86_400_000);
  const rate = r.string('TENANT_RATE_LIMIT');
  let startsPerSecond: number | undefined;
  if (rate !== undefined) {
    startsPerSecond = Number(rate);
    r.require(
      Number.isFinite(startsPerSecond) && startsPerSecond > 0,
      'TENANT_RATE_LIMIT',
      'must be a positive number of starts per second',
    );
  }
  const config: WorkerConfig = {
    redis: readRedisConfig(r),
    routesFile: routesFile ?? '',
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    orchestrator: {
      baseUrl,
      tokenUrl: tokenUrl ?? '',
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      scopes: (r.string('UIPATH_SCOPES') ?? 'OR.Jobs OR.Execution OR.Folders.Read OR.Queues')
        .split(/[\s,]+/)
        .filter(Boolean),
      simulator: explicitBase === undefined,
      timeoutMs: r.duration('ORCHESTRATOR_TIMEOUT_MS', 'ms', 30_000),
      collectionQueriesPerMinute: r.int('ORCHESTRATOR_COLLECTION_LIMIT', 100, { min: 1 }),
      startsPerSecond,
    },
    concurrency: r.int('WORKER_CONCURRENCY', 10, { min: 1, max: 1000 }),
    metricsPort: r.int('WORKER_METRICS_PORT', 9464, { min: 0, max: 65535 }),
    trackCompletion: r.bool('TRACK_COMPLETION', false),
    backoffBaseMs,
    backoffMaxMs,
    ambiguousSettleMs: r.duration('AMBIGUOUS_SETTLE_MS', 'ms', 15_000),
    maxStartedAttempts: r.int('MAX_STARTED_ATTEMPTS', 50, { min: 1 }),
    lockMs: r.duration('WORKER_LOCK_MS', 'ms', 30_000),
    maxStalledCount: r.int('WORKER_MAX_STALLS', 5, { min: 1 }),
    shutdownTimeoutMs: r.duration('SHUTDOWN_TIMEOUT_MS', 'ms', 25_000),
    slaSeconds: r.int('SLA_SECONDS', 30, { min: 1 }),
    auditTtlMs: Math.max(r.duration('AUDIT_TTL', 's', 7 * 86_400_000), dedupeTtlMs),
    piiFields: r.list('PII_FIELDS'),
    encryptionKeys: readEncryptionKeys(r),
  };
  r.done();
  return Object.freeze(config);
}
