import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type ServerType, serve } from '@hono/node-server';
import { createLogger, loadReceiverConfig, parseRoutes, type Route } from '@rpa-bridge/core';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { createReceiverApp, type Receiver } from '../../apps/receiver/src/app.js';
import { createProducerRedis } from '../../apps/receiver/src/redis.js';

export const TEST_ROUTES_YAML = `
routes:
  - name: billing-account-update
    match:
      eventType: interaction.completed
      metadata.taskType: account_update
    target: { kind: job, processKey: BackOfficeAccountUpdate, folderPath: Shared/BackOffice, priority: Normal }
    inputs:
      ContactId: contactId
      CorrelationId: correlationId
      triggerReason: metadata.taskType
      requestTimestamp: timestamp
    concurrency: 3
  - name: refunds
    match:
      metadata.taskType: refund
    target: { kind: queue, queueName: ContactCenterInbound, folderKey: 6a1c3f0e-2b5d-4e8f-9a7c-1d2e3f4a5b6c }
    inputs:
      ContactId: contactId
      CaseNote: { from: metadata.note, sensitive: true }
  - name: conversation-end
    match:
      eventType: [conversation.acw, conversation.customer.end, conversation.user.end, conversation.acd.end]
    target: { kind: job, processKey: WrapUpFollowUp, folderId: 42 }
    inputs:
      ConversationId: interactionId
      ContactId: contactId
      MediaType: metadata.mediaType
`;

export const testRoutes = (yaml = TEST_ROUTES_YAML): Route[] => parseRoutes(parseYaml(yaml), 'test-routes.yaml');

/** TEST_ROUTES_YAML in a fresh temp directory, for processes that read ROUTES_FILE. */
export function writeTestRoutesFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'routes-')), 'routes.yaml');
  writeFileSync(file, TEST_ROUTES_YAML);
  return file;
}

export const ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface TestReceiver {
  url: string;
  prefix: string;
  /** A separate client for inspecting Redis in assertions. */
  inspect: Redis;
  receiver: Receiver;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A real receiver on a real socket: config parsed from an env object exactly
 * as main.ts does, a unique queue prefix per call, every log line captured.
 */
export async function startTestReceiver(opts: {
  redisUrl: string;
  env?: Record<string, string>;
  routes?: Route[];
  host?: string;
  tracing?: boolean;
}): Promise<TestReceiver> {
  const prefix = `{t-${randomUUID().slice(0, 8)}}`;
  const config = loadReceiverConfig({
    ROUTES_FILE: 'unused-in-tests.yaml',
    REDIS_URL: opts.redisUrl,
    QUEUE_PREFIX: prefix,
    WEBHOOK_API_KEYS: 'test-key-1',
    ENCRYPTION_KEY,
    ADMIN_TOKEN: 'admin-token',
    ...opts.env,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level: 'info', name: 'receiver', destination });
  const redis = createProducerRedis(config.redis.url);
  redis.on('error', () => {});
  const receiver = createReceiverApp({
    config,
    routes: opts.routes ?? testRoutes(),
    redis,
    logger,
    tracing: opts.tracing ?? false,
  });
  const host = opts.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: receiver.app.fetch, port: 0, hostname: host }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const inspect = new Redis(config.redis.url, { maxRetriesPerRequest: 1 });
  inspect.on('error', () => {});
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    prefix,
    inspect,
    receiver,
    logs,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await receiver.close();
      redis.disconnect();
      inspect.disconnect();
    },
  };
}

export function flatEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'interaction.completed',
    timestamp: new Date().toISOString(),
    contactId: '89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d',
    userId: 'agent-id-12345',
    interactionId: `int-${randomUUID()}`,
    correlationId: `rpa-${randomUUID()}`,
    metadata: { department: 'billing', taskType: 'account_update' },
    ...overrides,
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-key-1', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : {} };
}
