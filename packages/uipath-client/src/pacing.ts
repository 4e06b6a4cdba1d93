import type { Redis } from 'ioredis';

/**
 * A token bucket for Orchestrator's collection-query limit (100 requests a
 * minute per tenant for external callers on Automation Cloud). `take()`
 * resolves with 0 when a token was taken, or the milliseconds to wait.
 */
export interface Pacer {
  take(): Promise<number>;
}

export interface PacerOptions {
  /** Requests per minute (default 100). */
  perMinute: number;
  /** Burst size (default a tenth of a minute's budget, at least 1). */
  burst?: number;
  now: () => number;
}

function params(o: Omit<PacerOptions, 'now'>) {
  const rate = o.perMinute / 60_000; // tokens per ms
  const burst = Math.max(1, o.burst ?? Math.floor(o.perMinute / 10));
  return { rate, burst };
}

export function createLocalPacer(o: PacerOptions): Pacer {
  const { rate, burst } = params(o);
  let tokens = burst;
  let last = o.now();
  return {
    async take() {
      const now = o.now();
      tokens = Math.min(burst, tokens + (now - last) * rate);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - tokens) / rate);
    },
  };
}

/**
 * The same bucket in Redis, shared by every worker of the tenant: one key, one
 * atomic script, Redis' own clock (so worker clock skew does not matter).
 */
const BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
if now > last then tokens = math.min(burst, tokens + (now - last) * rate) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(math.max(now, last)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return wait
`;

type BucketRedis = Redis & { rpaTakeToken(key: string, rate: number, burst: number): Promise<number> };

export function createRedisPacer(redis: Redis, key: string, o: Omit<PacerOptions, 'now'>): Pacer {
  const r = redis as BucketRedis;
  if (typeof r.rpaTakeToken !== 'function') r.defineCommand('rpaTakeToken', { numberOfKeys: 1, lua: BUCKET_LUA });
  const { rate, burst } = params(o);
  return { take: () => r.rpaTakeToken(key, rate, burst) };
}
