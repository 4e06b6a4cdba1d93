import { parseEncryptionKey } from './crypto.js';
import { type Env, EnvReader, type ReadFile } from './env.js';
import { type Cidr, parseCidr } from './ip-allowlist.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DAY_MS = 86_400_000;

export interface RedisConfig {
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  url: string;
  /** `QUEUE_PREFIX`, default `{rpa-bridge}`: a hash tag, so every key of a queue lands in one Cluster slot. */
  prefix: string;
}

export interface ReceiverConfig {
  redis: RedisConfig;
  /** `PORT` (default 8080) and `HOST` (default 0.0.0.0). */
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `ROUTES_FILE`: YAML or JSON (required). */
  routesFile: string;
  auth: {
    /** `WEBHOOK_API_KEYS`: several keys may be active (rotation). */
    apiKeys: string[];
    /** `WEBHOOK_HMAC_SECRETS`: several secrets may be active (rotation). */
    hmacSecrets: string[];
    /** `ALLOWED_IPS`: CIDRs; empty allows every address. */
    allowedIps: Cidr[];
    /** `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed. */
    trustedProxies: Cidr[];
    /** `MAX_EVENT_AGE`: replay window on the event timestamp, both ways (default off). */
    maxEventAgeMs: number | undefined;
    /** `INSECURE_NO_AUTH=true` lets a local run start without any credential. */
    insecureNoAuth: boolean;
  };
  admin: { token?: string; user?: string; password?: string };
  /** `MAX_BODY_BYTES`, default 64 KiB, enforced while reading. */
  maxBodyBytes: number;
  /** `MAX_BACKLOG`: once more jobs than this wait (not yet started) in a route's queue, ingest answers 429 (default 10,000). */
  maxBacklog: number;
  /** `DEDUPE_TTL`: how long a correlationId is remembered after its job finished (default 24 h). */
  dedupeTtlMs: number;
  /** `AUDIT_TTL`: how long a transaction's audit trail is kept (default 7 d, never below DEDUPE_TTL). */
  auditTtlMs: number;
  /** `ENQUEUE_TIMEOUT_MS`: longest wait for Redis before answering 503 (default 2000). */
  enqueueTimeoutMs: number;
  /** `JOB_ATTEMPTS`: attempts per job, stored with the job (default 8). */
  jobAttempts: number;
  /** `PII_FIELDS`: added to the built-in list of field names masked everywhere. */
  piiFields: string[];
  /** `ENCRYPTION_KEY`: AES-256 keys, the first encrypts (rotation). */
  encryptionKeys: Buffer[];
}

export function readRedisConfig(r: EnvReader): RedisConfig {
  const url = r.secret('REDIS_URL') ?? 'redis://127.0.0.1:6379';
  r.require(/^rediss?:\/\//.test(url), 'REDIS_URL', 'must start with redis:// or rediss://');
  const prefix = r.string('QUEUE_PREFIX') ?? '{rpa-bridge}';
  r.require(!prefix.includes(':') && !/\s/.test(prefix), 'QUEUE_PREFIX', 'must not contain ":" or spaces');
  return { url, prefix };
}

/** `ENCRYPTION_KEY`: comma-separated base64 32-byte keys (also `ENCRYPTION_KEY_FILE`). */
export function readEncryptionKeys(r: EnvReader): Buffer[] {
  return r.list('ENCRYPTION_KEY', r.secret('ENCRYPTION_KEY')).flatMap((k, i) => {
    const key = parseEncryptionKey(k);
    if (!key) r.require(false, 'ENCRYPTION_KEY', `key ${i + 1} is not 32 bytes of base64`);
    return key ? [key] : [];
  });
}

/** Parses the receiver's environment once; throws listing every bad variable. */
export function loadReceiverConfig(env: Env, readFile?: ReadFile): Readonly<ReceiverConfig> {
  const r = new EnvReader(env, readFile);
  const apiKeys = r.secretList('WEBHOOK_API_KEYS');
  const hmacSecrets = r.secretList('WEBHOOK_HMAC_SECRETS');
  const insecureNoAuth = r.bool('INSECURE_NO_AUTH', false);
  r.require(
    apiKeys.length > 0 || hmacSecrets.length > 0 || insecureNoAuth,
    'WEBHOOK_API_KEYS',
    'no webhook authentication is configured: set WEBHOOK_API_KEYS and/or WEBHOOK_HMAC_SECRETS (or INSECURE_NO_AUTH=true for local runs only)',
  );
  const routesFile = r.string('ROUTES_FILE');
  r.require(routesFile !== undefined, 'ROUTES_FILE', 'is required (a YAML or JSON routes file)');
  const admin: ReceiverConfig['admin'] = {};
  const token = r.secret('ADMIN_TOKEN');
  const user = r.string('ADMIN_USER');
  const password = r.secret('ADMIN_PASSWORD');
  if (token !== undefined) admin.token = token;
  if (user !== undefined) admin.user = user;
  if (password !== undefined) admin.password = password;
  r.require(
    (user === undefined) === (password === undefined),
    'ADMIN_USER',
    'ADMIN_USER and ADMIN_PASSWORD go together',
  );
  const dedupeTtlMs = r.duration('DEDUPE_TTL', 's', DAY_MS);
  r.require(dedupeTtlMs >= 1000, 'DEDUPE_TTL', 'must be at least 1s');
  const auditTtlMs = Math.max(r.duration('AUDIT_TTL', 's', 7 * DAY_MS), dedupeTtlMs);
  const maxEventAgeMs = r.duration('MAX_EVENT_AGE', 's', undefined);
  const config: ReceiverConfig = {
    redis: readRedisConfig(r),
    port: r.int('PORT', 8080, { min: 0, max: 65535 }),
    host: r.string('HOST') ?? '0.0.0.0',
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    routesFile: routesFile ?? '',
    auth: {
      apiKeys,
      hmacSecrets,
      allowedIps: r.parsedList('ALLOWED_IPS', parseCidr, 'an IP address or CIDR'),
      trustedProxies: r.parsedList('TRUSTED_PROXIES', parseCidr, 'an IP address or CIDR'),
      maxEventAgeMs: maxEventAgeMs === 0 ? undefined : maxEventAgeMs,
      insecureNoAuth,
    },
    admin,
    maxBodyBytes: r.int('MAX_BODY_BYTES', 64 * 1024, { min: 1, max: 16 * 1024 * 1024 }),
    maxBacklog: r.int('MAX_BACKLOG', 10_000, { min: 0 }),
    dedupeTtlMs,
    auditTtlMs,
    enqueueTimeoutMs: r.duration('ENQUEUE_TIMEOUT_MS', 'ms', 2000),
    jobAttempts: r.int('JOB_ATTEMPTS', 8, { min: 1, max: 100 }),
    piiFields: r.list('PII_FIELDS'),
    encryptionKeys: readEncryptionKeys(r),
  };
  r.done();
  return Object.freeze(config);
}
