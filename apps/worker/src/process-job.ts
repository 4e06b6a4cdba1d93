import { trace } from '@opentelemetry/api';
import {
  type AuditTrail,
  CORRELATION_ID_ATTRIBUTE,
  type FieldCipher,
  isBridgeError,
  type Redactor,
  type Route,
  type RouteTarget,
  type StartJobData,
  startJobSchema,
} from '@rpa-bridge/core';
import {
  type Folder,
  isOrchestratorError,
  type OrchestratorClient,
  type OrchestratorError,
  type Pacer,
} from '@rpa-bridge/uipath-client';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { waitForTerminal } from './completion.js';
import type { WorkerMetrics } from './metrics.js';
import { mayHaveStarted, readProgress, type StartProgress } from './progress.js';
import { RetryLater, settleDelayMs } from './retry.js';

export interface ProcessDeps {
  routes: ReadonlyMap<string, Route>;
  client: OrchestratorClient;
  /** Read per job, so rotated ENCRYPTION_KEYs apply without a restart. */
  cipher: () => FieldCipher | undefined;
  audit: AuditTrail;
  redactor: Redactor;
  metrics: WorkerMetrics;
  logger: Logger;
  now: () => number;
  slaSeconds: number;
  /** Least delay before retrying a start that was sent and not answered (see WorkerConfig). */
  ambiguousSettleMs: number;
  trackCompletion: boolean;
  completionPoll: { minMs: number; maxMs: number };
  /** Optional tenant-wide start rate (shared through Redis). */
  startPacer?: Pacer;
  /** Aborted when the worker shuts down: polling jobs are released, not failed. */
  shutdown: AbortSignal;
}

export type StartJob = Job<StartJobData, { orchestratorId?: number; robotState?: string }>;

/**
 * A per-job child logger, built only when something is logged: most jobs log
 * nothing above `warn` (the production level for busy workers) and pino
 * children are not free.
 */
function lazyChild(
  deps: Pick<ProcessDeps, 'logger' | 'redactor'>,
  b: { correlationId: string; route: string; jobId: string | undefined },
): Logger {
  let child: Logger | undefined;
  const get = () => {
    child ??= deps.logger.child({ correlationId: deps.redactor.text(b.correlationId), route: b.route, jobId: b.jobId });
    return child;
  };
  return new Proxy(deps.logger, { get: (_t, prop) => Reflect.get(get(), prop) }) as Logger;
}

export function folderOf(target: RouteTarget): Folder {
  if (target.folderKey !== undefined) return { key: target.folderKey };
  if (target.folderId !== undefined) return { id: target.folderId };
  return { path: target.folderPath as string };
}

/**
 * One job: start the route's Orchestrator target exactly once.
 *
 * The job's progress becomes `started` (with the Orchestrator id) as soon as
 * that is known. A run that finds `started` only finishes. Any later run that
 * may follow a sent request (a retry after an ambiguous failure, a stalled
 * re-run, a redrive) looks the Reference up first; the first run skips the
 * lookup (collection queries are rate-limited) and needs no write before it.
 */
export function createProcessor(deps: ProcessDeps) {
  const { client, audit, metrics } = deps;

  async function setProgress(job: StartJob, p: StartProgress): Promise<StartProgress> {
    await job.updateProgress(p);
    return p;
  }

  async function lookup(
    route: Route,
    folder: Folder,
    reference: string,
    signal: AbortSignal | undefined,
  ): Promise<number | undefined> {
    if (route.target.kind === 'job') return (await client.findJobsByReference(reference, folder, signal))[0]?.Id;
    return (await client.findQueueItemsByReference(reference, folder, signal))[0]?.Id;
  }

  async function start(
    job: StartJob,
    route: Route,
    data: StartJobData,
    folder: Folder,
    signal: AbortSignal | undefined,
  ): Promise<StartProgress> {
    const sealed: Record<string, unknown> = {};
    const cipher = deps.cipher();
    for (const [name, value] of Object.entries(data.sealed)) {
      if (!cipher) throw new UnrecoverableError(`input ${name} is sealed but no ENCRYPTION_KEY is configured`);
      sealed[name] = cipher.decrypt(value); // decrypted only here, right before the call
    }
    const inputs = { ...data.inputs, ...sealed };
    const at = () => new Date(deps.now()).toISOString();
    const t = route.target;
    if (t.kind === 'job') {
      const req: Parameters<OrchestratorClient['startJob']>[0] = {
        folder,
        processKey: t.processKey,
        inputArguments: inputs,
        reference: data.correlationId,
        signal,
      };
      if (t.priority) req.priority = t.priority;
      const started = await client.startJob(req);
      return setProgress(job, { phase: 'started', at: at(), target: 'job', orchestratorId: started.Id, via: 'start' });
    }
    const req: Parameters<OrchestratorClient['addQueueItem']>[0] = {
      folder,
      queueName: t.queueName,
      specificContent: inputs,
      reference: data.correlationId,
      signal,
    };
    if (t.priority) req.priority = t.priority;
    const added = await client.addQueueItem(req);
    return setProgress(
      job,
      added.duplicate
        ? { phase: 'started', at: at(), target: 'queue', via: 'duplicate-reference' }
        : { phase: 'started', at: at(), target: 'queue', orchestratorId: added.item.Id, via: 'start' },
    );
  }

  function observeSla(route: Route, data: StartJobData, log: Logger) {
    const seconds = Math.max(0, (deps.now() - Date.parse(data.eventTimestamp)) / 1000);
    metrics.slaSeconds.observe({ route: route.name }, seconds);
    if (seconds > deps.slaSeconds) {
      metrics.slaBreaches.inc({ route: route.name });
      log.warn(
        { slaSeconds: deps.slaSeconds, seconds: Math.round(seconds * 10) / 10 },
        'SLA breached: robot start later than SLA_SECONDS after the event',
      );
    }
  }

  return async function processJob(job: StartJob, token?: string, jobSignal?: AbortSignal) {
    const parsed = startJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError('job data does not match the job catalog schema');
    const data = parsed.data;
    const route = deps.routes.get(data.route);
    if (!route) throw new UnrecoverableError(`route ${data.route} is not configured on this worker`);
    const folder = folderOf(route.target);
    const log = lazyChild(deps, { correlationId: data.correlationId, route: route.name, jobId: job.id });
    // BullMQ's consumer span, when tracing is on (undefined otherwise).
    trace.getActiveSpan()?.setAttributes({
      [CORRELATION_ID_ATTRIBUTE]: deps.redactor.text(data.correlationId),
      'rpa.route': route.name,
    });
    // Shutdown releases jobs waiting on robots, but never aborts a start or lookup in flight: an
    // aborted start is ambiguous (it may land anyway) and would cost its retry the settle delay.
    // ORCHESTRATOR_TIMEOUT_MS bounds them, and the drain waits for them.
    const callSignal = jobSignal;
    const signal = jobSignal ? AbortSignal.any([jobSignal, deps.shutdown]) : deps.shutdown;
    let progress = readProgress(job.progress);
    const inheritedStarting = mayHaveStarted(progress, job.attemptsStarted);

    try {
      if (inheritedStarting) {
        const found = await lookup(route, folder, data.correlationId, callSignal);
        if (found !== undefined) {
          progress = await setProgress(job, {
            phase: 'started',
            at: new Date(deps.now()).toISOString(),
            target: route.target.kind,
            orchestratorId: found,
            via: 'lookup',
          });
          metrics.jobs.inc({ route: route.name, outcome: 'recovered' });
          await audit.record(data.correlationId, {
            type: 'started',
            route: route.name,
            orchestratorJobId: found,
            reason: 'found by Reference after an ambiguous attempt',
          });
          log.info({ orchestratorId: found }, 'start found by Reference lookup; not starting again');
        }
      }
      if (progress.phase !== 'started') {
        if (deps.startPacer) {
          const wait = await deps.startPacer.take();
          if (wait > 0) {
            metrics.jobs.inc({ route: route.name, outcome: 'delayed' });
            await job.moveToDelayed(deps.now() + wait, token);
            throw new DelayedError();
          }
        }
        progress = await start(job, route, data, folder, callSignal);
        const outcome =
          progress.phase === 'started' && progress.via === 'duplicate-reference' ? 'duplicate_reference' : 'started';
        metrics.jobs.inc({ route: route.name, outcome });
        observeSla(route, data, log);
        const orchestratorId = progress.phase === 'started' ? progress.orchestratorId : undefined;
        await audit.record(data.correlationId, {
          type: 'started',
          route: route.name,
          ...(orchestratorId !== undefined
            ? { orchestratorJobId: orchestratorId }
            : { reason: 'duplicate queue Reference: already added' }),
        });
        log.info({ orchestratorId, outcome }, 'robot work started');
      }
      const started = progress as Extract<StartProgress, { phase: 'started' }>;
      if (deps.trackCompletion && started.target === 'job' && started.orchestratorId !== undefined) {
        const final = await waitForTerminal(client, started.orchestratorId, folder, { ...deps.completionPoll, signal });
        await setProgress(job, { ...started, robotState: final.State });
        metrics.jobs.inc({ route: route.name, outcome: `robot_${final.State.toLowerCase()}` });
        await audit.record(data.correlationId, {
          type: final.State === 'Successful' ? 'succeeded' : 'failed',
          route: route.name,
          orchestratorJobId: started.orchestratorId,
          state: final.State,
        });
        return { orchestratorId: started.orchestratorId, robotState: final.State };
      }
      return started.orchestratorId !== undefined ? { orchestratorId: started.orchestratorId } : {};
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      return failed(job, token, route, data, err, progress, inheritedStarting, log);
    }
  };

  async function failed(
    job: StartJob,
    token: string | undefined,
    route: Route,
    data: StartJobData,
    err: unknown,
    progress: StartProgress,
    inheritedStarting: boolean,
    log: Logger,
  ): Promise<never> {
    if (deps.shutdown.aborted && progress.phase === 'started') {
      // Shutting down while waiting for the robot: release the job; the next run resumes polling.
      await job.moveToDelayed(deps.now() + 1000, token);
      throw new DelayedError();
    }
    if (isBridgeError(err, 'decrypt_failed'))
      return deadLetter(route, data, 'a sealed input could not be decrypted with the configured keys', log);
    if (!isOrchestratorError(err)) {
      const reason = deps.redactor.text((err as Error)?.message ?? String(err));
      await recordRetry(job, route, data, reason);
      throw new RetryLater(reason);
    }
    const e = err as OrchestratorError;
    metrics.orchestratorErrors.inc({ operation: e.operation, status: String(e.status ?? 'none'), kind: e.kind });
    const reason = deps.redactor.text(e.describe());
    if (e.kind === 'permanent') return deadLetter(route, data, reason, log);
    const startCall = e.operation !== 'findJobs' && e.operation !== 'findQueueItems';
    if (e.kind === 'retryable' && startCall && progress.phase !== 'started' && !inheritedStarting) {
      // Proven unsent (429 or no connection): the next attempt needs no lookup.
      await job.updateProgress({ phase: 'idle' } satisfies StartProgress);
    }
    if (e.kind === 'retryable' && e.retryAfterMs !== undefined && e.status === 429) {
      // Rejected unprocessed: wait as told without burning an attempt (maxStartedAttempts bounds the loop).
      metrics.jobs.inc({ route: route.name, outcome: 'delayed' });
      await audit.record(data.correlationId, {
        type: 'retried',
        route: route.name,
        attempt: job.attemptsMade + 1,
        reason,
      });
      log.warn({ retryAfterMs: e.retryAfterMs, reason }, 'Orchestrator asked to retry later');
      await job.moveToDelayed(deps.now() + e.retryAfterMs, token);
      throw new DelayedError();
    }
    await recordRetry(job, route, data, reason);
    log.warn({ kind: e.kind, reason, attempt: job.attemptsMade + 1 }, 'Orchestrator call failed; will retry');
    // An unanswered start may still be in flight at Orchestrator: look it up only once it could have landed.
    const settle = startCall ? settleDelayMs(e, deps.ambiguousSettleMs) : 0;
    throw new RetryLater(reason, Math.max(e.retryAfterMs ?? 0, settle) || undefined);
  }

  async function recordRetry(job: StartJob, route: Route, data: StartJobData, reason: string) {
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    metrics.jobs.inc({ route: route.name, outcome: last ? 'dead_lettered' : 'retried' });
    await audit.record(data.correlationId, {
      type: last ? 'dead-lettered' : 'retried',
      route: route.name,
      attempt: job.attemptsMade + 1,
      reason: last ? `attempts exhausted: ${reason}` : reason,
    });
  }

  async function deadLetter(route: Route, data: StartJobData, reason: string, log: Logger): Promise<never> {
    metrics.jobs.inc({ route: route.name, outcome: 'dead_lettered' });
    await audit.record(data.correlationId, { type: 'dead-lettered', route: route.name, reason });
    log.error({ reason }, 'permanent failure: dead-lettered');
    throw new UnrecoverableError(reason);
  }
}
