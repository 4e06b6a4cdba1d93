import type { TestProject } from 'vitest/node';
import { type RedisServer, startRedisServer } from './redis-server.js';

let server: RedisServer | undefined;

/** One Redis for the whole run: `REDIS_URL` when set, else a redis-server started here. */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await server?.destroy();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
