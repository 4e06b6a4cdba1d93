import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { type AuditTrail, BridgeError, type Redactor, redriveDeadLetters, redriveRequest } from '@rpa-bridge/core';
import type { Queue } from 'bullmq';
import { type Context, Hono } from 'hono';
import { type AdminCredentials, adminAuth } from '../middleware/admin-auth.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface AdminRouteDeps {
  /** Read on every request, so rotated admin credentials apply at once. */
  admin: () => AdminCredentials;
  queues: Iterable<Queue>;
  queuesByRoute: ReadonlyMap<string, Queue>;
  audit: AuditTrail;
  redactor: Redactor;
}

/** Bull Board and the audit API, both behind admin auth. */
export function registerAdminRoutes(app: Hono, deps: AdminRouteDeps): void {
  const guard = adminAuth(deps.admin);
  app.use(`${BULL_BOARD_PATH}/*`, guard);
  app.use(BULL_BOARD_PATH, guard);
  app.use('/v1/transactions/*', guard);
  app.use('/admin/transactions', guard);

  const serverAdapter = new HonoAdapter(serveStatic);
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const adapters = [...deps.queues].map((q) => {
    const adapter = new BullMQAdapter(q);
    // Job data holds only route-mapped inputs, but Bull Board shows them to every operator: mask PII.
    adapter.setFormatter('data', (data: unknown) => deps.redactor.value(data));
    adapter.setFormatter('returnValue', (v: unknown) => deps.redactor.value(v));
    return adapter;
  });
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: 'rpa-bridge' } },
  });
  // Bull Board's routes need Hono's TrieRouter (RegExpRouter refuses them). Mounted with `app.route`
  // they would move the whole app, webhooks included, onto that slower router; behind one wildcard
  // route they keep to their own app. Its errors go on to the main app's error handler.
  const board = new Hono();
  board.route(BULL_BOARD_PATH, serverAdapter.registerPlugin());
  board.onError((err) => {
    throw err;
  });
  const toBoard = (c: Context) => board.fetch(c.req.raw, c.env);
  app.all(BULL_BOARD_PATH, toBoard);
  app.all(`${BULL_BOARD_PATH}/*`, toBoard);

  app.use('/v1/dead-letters/*', guard);
  app.post('/v1/dead-letters/redrive', async (c) => {
    const body = redriveRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      throw new BridgeError(
        'invalid_payload',
        'give correlationId, route or reason (or all: true), and optionally dryRun',
        {
          issues: body.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
        },
      );
    }
    const { dryRun, all: _all, ...filter } = body.data;
    const result = await redriveDeadLetters({ queues: deps.queuesByRoute, audit: deps.audit, filter, dryRun });
    return c.json(deps.redactor.value(result));
  });

  app.get('/v1/transactions/:correlationId', async (c) => {
    const correlationId = c.req.param('correlationId');
    let entries: Awaited<ReturnType<AuditTrail['read']>>;
    try {
      entries = await deps.audit.read(correlationId);
    } catch (cause) {
      throw new BridgeError('unavailable', 'the audit store is unreachable', { cause });
    }
    if (entries.length === 0) {
      return c.json({ error: 'not_found', message: 'no transaction with this correlationId', correlationId }, 404);
    }
    return c.json({ correlationId, entries: deps.redactor.value(entries) });
  });
}
