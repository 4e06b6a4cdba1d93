import { type Context, context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { AUDIT_MAX_ENTRIES, type AuditTemplate, auditKeyForJobId, SpanKind, TRACER_NAME } from '@rpa-bridge/core';
import type { Redis } from 'ioredis';

/**
 * Writes a batch of start jobs (enqueue.ts: up to WRITE_BATCH from one
 * event-loop turn) in a single script: each job in
 * BullMQ's own storage layout (what `Queue.add` with a custom jobId writes:
 * the job hash, the wait list, the worker marker, the `added`/`waiting`/
 * `duplicated` events), plus its audit entries, atomically with the check
 * that tells a new job from a duplicate.
 *
 * Why not `Queue.add`: per job it costs a script call with msgpacked
 * arguments, a second script to confirm and audit, and ~100 µs of client and
 * Redis CPU, which capped the receiver at a quarter of a bare Hono handler
 * (docs/benchmarks.md). The price is owning BullMQ's job layout:
 * `job-writer.test.ts` compares what this writes with what `Queue.add`
 * writes, key by key, and has a BullMQ Worker run it, so an upgrade that
 * changes the layout fails the tests instead of the workers.
 *
 * KEYS: wait, meta, id, events, marker, active.
 * ARGV: n, job name, timestamp, audit ttl ms, audit max entries, opts JSON head,
 *   the audit templates (received, enqueued, duplicate: head, tail each),
 *   the job key prefix, the audit key prefix,
 *   then per job: jobId, data JSON, time of receipt (ISO), extra opts JSON ('' or `,"tm":…`).
 * Each job's hash and audit list keys are prefix .. jobId, built in the script as BullMQ's
 * own scripts build their job keys: two arguments fewer per job to encode and parse (~1 µs
 * of receiver CPU a job). Every key carries the queue prefix's hash tag, so on Redis Cluster
 * they are in the slot of the declared keys, on the node the script runs on.
 * Returns per job 1 (created) or 0 (a job with that id exists).
 */
const WRITE_JOBS_LUA = `
local rcall = redis.call
local n = tonumber(ARGV[1])
local name, ts, ttl, keep, optsHead = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local waitKey, metaKey, eventsKey = KEYS[1], KEYS[2], KEYS[4]
-- BullMQ's getOrSetMaxEvents, read with what isQueuePausedOrMaxed needs below (one call, not two)
local meta = rcall('HMGET', metaKey, 'opts.maxLenEvents', 'paused', 'concurrency')
local maxEvents = meta[1]
if not maxEvents then
  maxEvents = 10000
  rcall('HSET', metaKey, 'opts.maxLenEvents', maxEvents)
end
-- BullMQ bumps the id counter once per add, custom id or not
rcall('INCRBY', KEYS[3], n)
local out = {}
-- ids of the jobs this call creates, pushed to the wait list in one LPUSH at the end
local added = {}
for i = 1, n do
  local a = 14 + (i - 1) * 4
  local jobId, at = ARGV[a + 1], ARGV[a + 3]
  local jobKey, auditKey = ARGV[13] .. jobId, ARGV[14] .. jobId
  local received = ARGV[7] .. at .. ARGV[8]
  local length
  if rcall('EXISTS', jobKey) == 1 then
    rcall('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'duplicated', 'jobId', jobId)
    length = rcall('RPUSH', auditKey, received, ARGV[11] .. at .. ARGV[12])
    out[i] = 0
  else
    local opts = optsHead .. '"jobId":"' .. jobId .. '"' .. ARGV[a + 4] .. '}'
    rcall('HSET', jobKey, 'name', name, 'data', ARGV[a + 2], 'opts', opts, 'timestamp', ts, 'delay', 0, 'priority', 0)
    rcall('XADD', eventsKey, '*', 'event', 'added', 'jobId', jobId, 'name', name)
    rcall('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', jobId)
    length = rcall('RPUSH', auditKey, received, ARGV[9] .. at .. ARGV[10])
    added[#added + 1] = jobId
    out[i] = 1
  end
  if length > keep then rcall('LTRIM', auditKey, -keep, -1) end
  rcall('PEXPIRE', auditKey, ttl)
end
if #added > 0 then
  -- One LPUSH of all ids leaves the list as one LPUSH per job would (each pushed left in turn),
  -- for one command's execution and AOF record instead of one per job.
  rcall('LPUSH', waitKey, unpack(added))
  -- BullMQ's isQueuePausedOrMaxed + addBaseMarkerIfNeeded: wake a worker unless paused or at its global concurrency
  local held = meta[2] or (meta[3] and rcall('LLEN', KEYS[6]) >= tonumber(meta[3]))
  if not held then rcall('ZADD', KEYS[5], 0, '0') end
end
return out
`;

const SAFE_JOB_ID = /^[A-Za-z0-9_-]+$/;

type WritingRedis = Redis & {
  rpaWriteJobs(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

export interface JobToWrite {
  jobId: string;
  /** The job data, JSON. */
  data: string;
  /** When its request arrived (ISO): the time of its audit entries. */
  receivedAt: string;
  /** The request's trace context, when tracing is on. */
  ctx?: Context;
}

export interface AuditTemplates {
  received: AuditTemplate;
  enqueued: AuditTemplate;
  duplicate: AuditTemplate;
}

export interface JobWriterOptions {
  redis: Redis;
  prefix: string;
  queueName: string;
  jobName: string;
  /** The job options `Queue.add` would be given (without jobId). */
  jobOptions: Record<string, unknown>;
  audit: AuditTemplates;
  auditTtlMs: number;
  /** A PRODUCER span per job and its context in the job, as bullmq-otel does. */
  tracing: boolean;
}

export type JobWriter = (jobs: readonly JobToWrite[]) => Promise<boolean[]>;

export function createJobWriter(opts: JobWriterOptions): JobWriter {
  const redis = opts.redis as WritingRedis;
  if (typeof redis.rpaWriteJobs !== 'function') redis.defineCommand('rpaWriteJobs', { lua: WRITE_JOBS_LUA });
  const key = (suffix: string) => `${opts.prefix}:${opts.queueName}:${suffix}`;
  const fixedKeys = ['wait', 'meta', 'id', 'events', 'marker', 'active'].map(key);
  // BullMQ stores the options as JSON with the jobId among them; the script appends it (ids are `c-` + base64url).
  const optsHead = `${JSON.stringify(opts.jobOptions).slice(0, -1)},`;
  const { received, enqueued, duplicate } = opts.audit;
  const head = [optsHead, ...received, ...enqueued, ...duplicate, key(''), auditKeyForJobId(opts.prefix, '')];
  const spanName = `add ${opts.queueName}.${opts.jobName}`;

  return async (jobs) => {
    const argv: (string | number)[] = [
      jobs.length,
      opts.jobName,
      Date.now(),
      opts.auditTtlMs,
      AUDIT_MAX_ENTRIES,
      ...head,
    ];
    const spans: ProducerSpan[] = [];
    // Spans start inside the try, so a refused id still ends the ones already started.
    try {
      for (const j of jobs) {
        // The script splices the id into JSON unescaped: only toJobId's alphabet may pass.
        if (!SAFE_JOB_ID.test(j.jobId)) throw new Error(`job id ${JSON.stringify(j.jobId)} is not from toJobId`);
        let tm = '';
        if (opts.tracing) {
          const span = producerSpan(spanName, j.ctx);
          spans.push(span);
          tm = telemetryOption(span);
        }
        argv.push(j.jobId, j.data, j.receivedAt, tm);
      }
      const created = await redis.rpaWriteJobs(fixedKeys.length, ...fixedKeys, ...argv);
      return created.map((c) => c === 1);
    } catch (err) {
      for (const s of spans) s.span.setStatus({ code: SpanStatusCode.ERROR, message: 'write failed' });
      throw err;
    } finally {
      for (const s of spans) s.span.end();
    }
  };
}

interface ProducerSpan {
  span: Span;
  ctx: Context;
}

function producerSpan(name: string, parent: Context | undefined): ProducerSpan {
  const p = parent ?? context.active();
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.PRODUCER }, p);
  return { span, ctx: trace.setSpan(p, span) };
}

/** BullMQ's `tm` option: the propagation headers bullmq-otel's worker side reads the parent from. */
function telemetryOption({ ctx }: ProducerSpan): string {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return `,"tm":${JSON.stringify(JSON.stringify(carrier))}`;
}
