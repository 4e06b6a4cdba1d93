import type { Job, Queue } from 'bullmq';
import type { AuditTrail } from './audit.js';
import { toJobId } from './job-id.js';
import { type StartJobData, startJobSchema } from './jobs.js';

export interface RedriveFilter {
  correlationId?: string;
  route?: string;
  /** Case-insensitive substring of the failure reason (e.g. `errorCode=1100`, `400`). */
  reason?: string;
}

export interface RedriveItem {
  correlationId: string;
  route: string;
  jobId: string;
  reason: string;
  attemptsMade: number;
}

export interface RedriveResult {
  dryRun: boolean;
  matched: RedriveItem[];
  redriven: number;
}

export interface RedriveOptions {
  /** Route name → its queue. */
  queues: ReadonlyMap<string, Queue>;
  audit: AuditTrail;
  filter: RedriveFilter;
  dryRun: boolean;
  /** Most dead letters looked at per queue (default 1000). */
  limit?: number;
}

/**
 * Sends dead letters (BullMQ's failed set) back to work with a fresh attempt
 * budget. The job keeps its id, so its dedupe identity and its progress marker
 * stay: a job whose earlier attempt may have reached Orchestrator still looks
 * its Reference up before starting, so a redrive never makes a second robot job.
 */
export async function redriveDeadLetters(o: RedriveOptions): Promise<RedriveResult> {
  const limit = o.limit ?? 1000;
  const matched: { item: RedriveItem; job: Job }[] = [];
  for (const [route, queue] of o.queues) {
    if (o.filter.route !== undefined && o.filter.route !== route) continue;
    let jobs: Job[];
    if (o.filter.correlationId !== undefined) {
      const job = await queue.getJob(toJobId(o.filter.correlationId));
      jobs = job && (await job.isFailed()) ? [job] : [];
    } else {
      jobs = await queue.getFailed(0, limit - 1);
    }
    const needle = o.filter.reason?.toLowerCase();
    for (const job of jobs) {
      const reason = job.failedReason ?? '';
      if (needle !== undefined && !reason.toLowerCase().includes(needle)) continue;
      const data = startJobSchema.safeParse(job.data);
      const correlationId = data.success ? (data.data as StartJobData).correlationId : '';
      matched.push({
        item: { correlationId, route, jobId: String(job.id), reason, attemptsMade: job.attemptsMade },
        job,
      });
    }
  }
  let redriven = 0;
  if (!o.dryRun) {
    for (const { item, job } of matched) {
      // The attempt counters restart, so record that an earlier run may have reached Orchestrator:
      // the worker then looks the Reference up before starting (unless it was proven unsent).
      const phase = (job.progress as { phase?: string } | undefined)?.phase;
      if (phase !== 'started' && phase !== 'idle')
        await job.updateProgress({ phase: 'starting', at: new Date().toISOString() });
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      redriven++;
      if (item.correlationId) await o.audit.record(item.correlationId, { type: 'redriven', route: item.route });
    }
  }
  return { dryRun: o.dryRun, matched: matched.map((m) => m.item), redriven };
}
