import { randomUUID } from 'node:crypto';
import {
  AUDIT_MAX_ENTRIES,
  createAuditTrail,
  createRedactor,
  defaultJobOptions,
  START_JOB,
  type StartJobData,
  toJobId,
} from '@rpa-bridge/core';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createJobWriter } from './job-writer.js';

/**
 * The receiver writes jobs in BullMQ's layout itself (job-writer.ts). These
 * tests hold it to what `Queue.add` writes for the same job, so a BullMQ
 * upgrade that changes the layout fails here.
 */
describe('job writer: BullMQ layout', () => {
  let redis: Redis;
  const prefix = `{jw-${randomUUID().slice(0, 6)}}`;
  const jobOptions = defaultJobOptions({ dedupeTtlMs: 86_400_000, attempts: 5 });
  const audit = () => createAuditTrail({ redis, prefix, ttlMs: 60_000, redactor: createRedactor() });
  const writerFor = (queueName: string) =>
    createJobWriter({
      redis,
      prefix,
      queueName,
      jobName: START_JOB,
      jobOptions,
      audit: {
        received: audit().template({ type: 'received', route: queueName }),
        enqueued: audit().template({ type: 'enqueued', route: queueName }),
        duplicate: audit().template({ type: 'duplicate', route: queueName }),
      },
      auditTtlMs: 60_000,
      tracing: false,
    });
  const startData = (correlationId: string): StartJobData => ({
    v: 1,
    route: 'r',
    correlationId,
    eventType: 'interaction.completed',
    eventTimestamp: '2026-12-04T10:00:00.000Z',
    receivedAt: '2026-12-04T10:00:01.000Z',
    inputs: { ContactId: 'c-1', note: 'ünïcödé "quoted"' },
    sealed: {},
  });
  const toWrite = (data: StartJobData) => ({
    jobId: toJobId(data.correlationId),
    data: JSON.stringify(data),
    receivedAt: data.receivedAt,
  });

  /** Everything BullMQ keeps for a queue, with times and stream ids taken out. */
  async function snapshot(queueName: string) {
    const k = (s: string) => `${prefix}:${queueName}:${s}`;
    const jobKeys = (await redis.keys(k('c-*'))).sort();
    const jobs = await Promise.all(
      jobKeys.map(async (key) => {
        const { timestamp, opts, ...rest } = await redis.hgetall(key);
        return {
          key: key.slice(k('').length),
          timestamp: Number(timestamp) > 0,
          opts: JSON.parse(opts ?? ''),
          ...rest,
        };
      }),
    );
    const events = (await redis.xrange(k('events'), '-', '+')).map(([, fields]) => fields);
    const meta = await redis.hgetall(k('meta'));
    return {
      jobs,
      events,
      wait: await redis.lrange(k('wait'), 0, -1),
      marker: await redis.zrange(k('marker'), 0, -1, 'WITHSCORES'),
      id: await redis.get(k('id')),
      maxLenEvents: meta['opts.maxLenEvents'],
      paused: meta.paused,
    };
  }

  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(() => redis.quit());

  it('writes the same keys, fields, events and marker as Queue.add, duplicates included', async () => {
    const viaBullmq = new Queue('added', { connection: redis, prefix });
    const write = writerFor('written');
    const first = startData(`cid-${randomUUID()}`);
    const second = startData(`cid-${randomUUID()}`);
    for (const d of [first, second, first]) {
      await viaBullmq.add(START_JOB, d, { ...jobOptions, jobId: toJobId(d.correlationId) });
    }
    expect(await write([toWrite(first), toWrite(second)])).toEqual([true, true]);
    expect(await write([toWrite(first)])).toEqual([false]);

    const [expected, actual] = [await snapshot('added'), await snapshot('written')];
    expect(actual.jobs).toHaveLength(2);
    expect(actual).toEqual(expected);
    await viaBullmq.close();
  });

  it('a paused queue gets the job but no marker, as with Queue.add', async () => {
    const viaBullmq = new Queue('paused-added', { connection: redis, prefix });
    const written = new Queue('paused-written', { connection: redis, prefix });
    await Promise.all([viaBullmq.pause(), written.pause()]);
    const d = startData(`cid-${randomUUID()}`);
    await viaBullmq.add(START_JOB, d, { ...jobOptions, jobId: toJobId(d.correlationId) });
    await writerFor('paused-written')([toWrite(d)]);
    const [expected, actual] = [await snapshot('paused-added'), await snapshot('paused-written')];
    expect(actual.marker).toEqual([]);
    expect(actual.paused).toBe('1');
    expect(actual).toEqual(expected);
    await Promise.all([viaBullmq.close(), written.close()]);
  });

  it('a queue at its global concurrency gets the job but no marker, as with Queue.add', async () => {
    const viaBullmq = new Queue('maxed-added', { connection: redis, prefix });
    const written = new Queue('maxed-written', { connection: redis, prefix });
    for (const q of [viaBullmq, written]) {
      await q.setGlobalConcurrency(1);
      await redis.lpush(`${prefix}:${q.name}:active`, 'c-held'); // one job in flight, as a worker would hold it
    }
    const d = startData(`cid-${randomUUID()}`);
    await viaBullmq.add(START_JOB, d, { ...jobOptions, jobId: toJobId(d.correlationId) });
    await writerFor('maxed-written')([toWrite(d)]);
    const [expected, actual] = [await snapshot('maxed-added'), await snapshot('maxed-written')];
    expect(actual.marker).toEqual([]);
    expect(actual.wait).toHaveLength(1);
    expect(actual).toEqual(expected);
    await Promise.all([viaBullmq.close(), written.close()]);
  });

  it('a BullMQ Worker runs a written job with its data and options', async () => {
    const queueName = 'worked';
    const d = startData(`cid-${randomUUID()}`);
    const seen = new Promise<Job>((resolve) => {
      const worker = new Worker(
        queueName,
        async (job) => {
          resolve(job);
          await worker.close(true).catch(() => {});
        },
        { connection: new Redis(inject('redisUrl'), { maxRetriesPerRequest: null }), prefix },
      );
    });
    expect(await writerFor(queueName)([toWrite(d)])).toEqual([true]);
    const job = await seen;
    expect(job.id).toBe(toJobId(d.correlationId));
    expect(job.name).toBe(START_JOB);
    expect(job.data).toEqual(d);
    expect(job.opts).toMatchObject({ ...jobOptions, jobId: job.id });
  });

  it('refuses a job id that is not from toJobId (the script splices ids into JSON)', async () => {
    const d = startData(`cid-${randomUUID()}`);
    await expect(writerFor('refused')([{ ...toWrite(d), jobId: 'x","attempts":1' }])).rejects.toThrow(
      /not from toJobId/,
    );
    expect(await redis.exists(`${prefix}:refused:wait`)).toBe(0);
  });

  it('records received + enqueued for a new job, received + duplicate for a repeat, trimmed and expiring', async () => {
    const write = writerFor('audited');
    const d = startData(`cid-${randomUUID()}`);
    await write([toWrite(d)]);
    for (let i = 0; i < AUDIT_MAX_ENTRIES / 2; i++) await write([toWrite(d)]);
    const trail = await audit().read(d.correlationId);
    expect(trail).toHaveLength(AUDIT_MAX_ENTRIES);
    expect(trail.slice(-2)).toEqual([
      { type: 'received', route: 'audited', at: d.receivedAt },
      { type: 'duplicate', route: 'audited', at: d.receivedAt },
    ]);
    const fresh = startData(`cid-${randomUUID()}`);
    await write([toWrite(fresh)]);
    expect(await audit().read(fresh.correlationId)).toEqual([
      { type: 'received', route: 'audited', at: fresh.receivedAt },
      { type: 'enqueued', route: 'audited', at: fresh.receivedAt },
    ]);
    const ttl = await redis.pttl(`${prefix}:_audit:${toJobId(fresh.correlationId)}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
