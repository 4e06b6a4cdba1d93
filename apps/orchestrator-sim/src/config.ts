import { type Env, EnvReader } from '@rpa-bridge/core';
import type { SimSettings } from './state.js';

export const DEFAULT_SIM_CLIENT_ID = 'rpa-bridge-sim';
export const DEFAULT_SIM_CLIENT_SECRET = 'rpa-bridge-sim-secret';

export interface SimConfig {
  /** `SIM_PORT` (default 8089) and `SIM_HOST` (default 0.0.0.0). */
  port: number;
  host: string;
  clientId: string;
  clientSecret: string;
  /** Whether the credentials are the printed defaults (only then are they printed). */
  defaultCredentials: boolean;
  /** `ROUTES_FILE`, optional: seeds folders, processes and queues. */
  routesFile: string | undefined;
  logLevel: string;
  settings: SimSettings;
}

export function loadSimConfig(env: Env): Readonly<SimConfig> {
  const r = new EnvReader(env);
  const clientId = r.string('SIM_CLIENT_ID');
  const clientSecret = r.secret('SIM_CLIENT_SECRET');
  const config: SimConfig = {
    port: r.int('SIM_PORT', 8089, { min: 0, max: 65535 }),
    host: r.string('SIM_HOST') ?? '0.0.0.0',
    clientId: clientId ?? DEFAULT_SIM_CLIENT_ID,
    clientSecret: clientSecret ?? DEFAULT_SIM_CLIENT_SECRET,
    defaultCredentials: clientId === undefined && clientSecret === undefined,
    routesFile: r.string('ROUTES_FILE'),
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    settings: {
      robots: r.int('SIM_ROBOTS', 4, { min: 1, max: 10_000 }),
      jobMs: r.duration('SIM_JOB_MS', 'ms', 2000),
      tokenTtlSeconds: Math.max(1, Math.round(r.duration('SIM_TOKEN_TTL', 's', 3_600_000) / 1000)),
      collectionLimitPerMinute: r.int('SIM_COLLECTION_LIMIT', 100, { min: 1 }),
      rateLimitRetryAfterSeconds: r.int('SIM_RATE_LIMIT_RETRY_AFTER', 0, { min: 0, max: 3600 }),
      duplicateReferenceStatus: r.int('SIM_DUPLICATE_REFERENCE_STATUS', 409, { min: 400, max: 499 }),
    },
  };
  r.done();
  return Object.freeze(config);
}
