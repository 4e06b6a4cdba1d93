/** The baseline: a bare Hono JSON POST handler on the same Node server adapter. */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/v1/events', async (c) => {
  const body = (await c.req.json()) as { correlationId?: string };
  return c.json({ status: 'accepted', correlationId: body.correlationId }, 202);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => process.exit(0));
