import { type AuditEntry, type AuditTrail, queueNameFor, type Route, startJobSchema, toJobId } from '@rpa-bridge/core';
import type { Queue } from 'bullmq';
import type { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { BULL_BOARD_PATH } from './admin.js';

export interface OperatorPageDeps {
  routes: readonly Route[];
  queuesByRoute: ReadonlyMap<string, Queue>;
  audit: AuditTrail;
}

interface JobView {
  route: string;
  jobId: string;
  state: string;
  eventTimestamp?: string;
  attemptsMade: number;
  failedReason?: string;
  orchestratorId?: number;
  robotState?: string;
}

async function findJob(deps: OperatorPageDeps, correlationId: string): Promise<JobView | undefined> {
  const jobId = toJobId(correlationId);
  for (const route of deps.routes) {
    const job = await deps.queuesByRoute.get(route.name)?.getJob(jobId);
    if (!job) continue;
    const data = startJobSchema.safeParse(job.data);
    const progress = (job.progress ?? {}) as { orchestratorId?: number; robotState?: string };
    const view: JobView = { route: route.name, jobId, state: await job.getState(), attemptsMade: job.attemptsMade };
    if (data.success) view.eventTimestamp = data.data.eventTimestamp;
    if (job.failedReason) view.failedReason = job.failedReason;
    if (typeof progress.orchestratorId === 'number') view.orchestratorId = progress.orchestratorId;
    if (progress.robotState) view.robotState = progress.robotState;
    return view;
  }
  return undefined;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.dead-lettered,.rejected,.failed{color:#b00020;font-weight:600}.started,.succeeded,.enqueued{color:#0a7a28}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}`;

/**
 * `/admin/transactions`: a server-rendered operator view (behind admin auth):
 * search a correlationId, see its audit timeline, SLA, Orchestrator job and a
 * link to the job in Bull Board. Every value is HTML-escaped by `html`.
 */
export function registerOperatorPage(app: Hono, deps: OperatorPageDeps): void {
  app.get('/admin/transactions', async (c) => {
    const correlationId = (c.req.query('correlationId') ?? '').trim().slice(0, 128);
    let entries: AuditEntry[] = [];
    let job: JobView | undefined;
    if (correlationId) {
      [entries, job] = await Promise.all([deps.audit.read(correlationId), findJob(deps, correlationId)]);
    }
    const started = entries.find((e) => e.type === 'started');
    const sla =
      job?.eventTimestamp && started
        ? `${((Date.parse(started.at) - Date.parse(job.eventTimestamp)) / 1000).toFixed(1)} s (event → robot start)`
        : '—';
    const board = job
      ? `${BULL_BOARD_PATH}/queue/${encodeURIComponent(queueNameFor({ name: job.route }))}/${encodeURIComponent(job.jobId)}`
      : undefined;
    const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rpa-bridge · transactions</title><style>${raw(STYLE)}</style></head>
<body>
<h1>Transactions</h1>
<form method="get" action="/admin/transactions">
  <label>correlationId <input name="correlationId" value="${correlationId}" size="48" autofocus></label>
  <button type="submit">Search</button>
</form>
${
  correlationId === ''
    ? html`<p>Enter a correlationId.</p>`
    : entries.length === 0 && !job
      ? html`<p id="not-found">No transaction with this correlationId.</p>`
      : html`<h2>${correlationId}</h2>
<dl id="summary">
  <dt>route</dt><dd>${job?.route ?? started?.route ?? '—'}</dd>
  <dt>queue state</dt><dd id="state" class="${job?.state ?? ''}">${job?.state ?? 'removed after the retention window'}</dd>
  <dt>attempts</dt><dd>${job?.attemptsMade ?? '—'}</dd>
  <dt>Orchestrator job</dt><dd id="orchestrator">${job?.orchestratorId ?? started?.orchestratorJobId ?? '—'}${job?.robotState ? ` (${job.robotState})` : ''}</dd>
  <dt>SLA</dt><dd id="sla">${sla}</dd>
  <dt>failure</dt><dd id="failure" class="${job?.failedReason ? 'dead-lettered' : ''}">${job?.failedReason ?? '—'}</dd>
  <dt>Bull Board</dt><dd>${board ? html`<a id="board-link" href="${board}">open the job in Bull Board</a>` : '—'}</dd>
</dl>
<h3>Timeline</h3>
<table id="timeline"><thead><tr><th>at</th><th>event</th><th>detail</th></tr></thead><tbody>
${entries.map(
  (e) =>
    html`<tr><td>${e.at}</td><td class="${e.type}">${e.type}</td><td>${[
      e.reason,
      e.attempt !== undefined ? `attempt ${e.attempt}` : undefined,
      e.orchestratorJobId !== undefined ? `Orchestrator job ${e.orchestratorJobId}` : undefined,
      e.state,
    ]
      .filter(Boolean)
      .join(' · ')}</td></tr>`,
)}
</tbody></table>`
}
</body></html>`;
    c.header('Cache-Control', 'no-store');
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    return c.html(page);
  });
}
