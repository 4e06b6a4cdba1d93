import { Redis } from 'ioredis';

/**
 * The receiver's producer connection fails fast so a Redis outage becomes a
 * 503 the sender retries, never a hung request: no offline queue, one retry
 * per command, a short connect timeout; it keeps reconnecting in the background.
 * No auto-pipelining: measured slower here (it adds a tick and a pipeline per
 * command, and the enqueuer already batches).
 */
export function createProducerRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(200 * times, 2000) + Math.floor(Math.random() * 100),
  });
}
