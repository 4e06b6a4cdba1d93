/**
 * A bound, not a product: the least a durable webhook receiver can do on this
 * stack — read the body, check the API key and HMAC, parse the JSON, and write
 * each turn's events to Redis in one Lua call (no BullMQ, no schema, no audit,
 * no metrics). `pnpm bench` runs it beside the bare handler and the receiver,
 * so the table shows how much of the gap any receiver could close. One call per
 * turn, not one per eight jobs as the receiver writes: these writes are so small
 * that chunking only adds calls (~7 % slower here).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type HttpBindings, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';

const ADD_ALL = `
local out = {}
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then out[i] = 0 else
    redis.call('HSET', KEYS[i], 'data', ARGV[i])
    redis.call('LPUSH', ARGV[#KEYS + 1], KEYS[i])
    out[i] = 1
  end
end
return out`;

const redis = new Redis(process.env.REDIS_URL as string, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
redis.defineCommand('addAll', { lua: ADD_ALL });
const addAll = (redis as unknown as { addAll(n: number, ...a: string[]): Promise<number[]> }).addAll.bind(redis);
const prefix = process.env.QUEUE_PREFIX ?? '{ceiling}';
const apiKey = process.env.WEBHOOK_API_KEYS ?? '';
const secret = process.env.WEBHOOK_HMAC_SECRETS ?? '';

let pending: { key: string; data: string; done: (created: number) => void }[] = [];
function flush() {
  const batch = pending;
  pending = [];
  const settle = (created: (i: number) => number) => {
    for (const [i, p] of batch.entries()) p.done(created(i));
  };
  addAll(batch.length, ...batch.map((p) => p.key), ...batch.map((p) => p.data), `${prefix}:wait`).then(
    (created) => settle((i) => created[i] as number),
    () => settle(() => -1),
  );
}

const read = (incoming: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });

const app = new Hono<{ Bindings: HttpBindings }>();
app.post('/v1/events', async (c) => {
  if (c.req.header('x-api-key') !== apiKey) return c.json({ error: 'unauthorized' }, 401);
  const given = Buffer.from((c.req.header('x-genesys-signature') ?? '').replace(/^sha256=/, ''), 'hex');
  const bytes = await read(c.env.incoming);
  const mac = createHmac('sha256', secret).update(bytes).digest();
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) return c.json({ error: 'unauthorized' }, 401);
  let event: { correlationId?: unknown; contactId?: unknown };
  try {
    event = JSON.parse(bytes.toString('utf8'));
  } catch {
    return c.json({ error: 'invalid_json' }, 400);
  }
  if (typeof event.correlationId !== 'string') return c.json({ error: 'invalid_payload' }, 400);
  const key = `${prefix}:${createHash('sha256').update(event.correlationId).digest('base64url')}`;
  const data = JSON.stringify({ correlationId: event.correlationId, contactId: event.contactId });
  const created = await new Promise<number>((done) => {
    if (pending.push({ key, data, done }) === 1) setImmediate(flush);
  });
  if (created < 0) return c.json({ error: 'unavailable' }, 503);
  return c.json(
    { status: created ? 'accepted' : 'duplicate', correlationId: event.correlationId },
    created ? 202 : 200,
  );
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => process.exit(0));
