import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CORRELATION_ID_ATTRIBUTE, startTracing, type Tracing } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, post, startTestReceiver, type TestReceiver, testRoutes } from '../../../test/support/receiver.js';
import { startTestSimulator, type TestSimulator } from '../../../test/support/simulator.js';
import { eventually, startTestWorker, type TestWorker } from '../../../test/support/worker.js';

const ROUTES = testRoutes();
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let sim: TestSimulator;
let receiver: TestReceiver;
let worker: TestWorker;

beforeAll(async () => {
  // Receiver and worker share this process here, so one provider sees both ends of the trace.
  tracing = await startTracing({ enabled: true, serviceName: 'rpa-bridge-test' }, new SimpleSpanProcessor(exporter));
  sim = await startTestSimulator({ routes: ROUTES, settings: { robots: 5, jobMs: 20 } });
  receiver = await startTestReceiver({ redisUrl: inject('redisUrl'), tracing: true });
  worker = await startTestWorker({
    redisUrl: inject('redisUrl'),
    prefix: receiver.prefix,
    routes: ROUTES,
    simUrl: sim.url,
    tracing: true,
  });
});
afterAll(async () => {
  await worker.close();
  await receiver.close();
  await sim.close();
  await tracing.shutdown();
});

const spans = () => exporter.getFinishedSpans();
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;

describe('OpenTelemetry tracing (optional: on when an OTLP endpoint is configured)', () => {
  it('one trace from the webhook through the queue and the worker to the StartJobs call, each span naming the correlationId', async () => {
    const ev = flatEvent({
      customerName: 'Jane Canary',
      metadata: { taskType: 'account_update', card: '4111 1111 1111 1111' },
    });
    const id = ev.correlationId as string;
    expect((await post(receiver.url, ev)).status).toBe(202);
    // The consumer span ends last, once the job is done.
    const consumerOf = () =>
      spans().find((s) => s.kind === SpanKind.CONSUMER && s.attributes[CORRELATION_ID_ATTRIBUTE] === id);
    await eventually(() => consumerOf() !== undefined, 15_000, 'the finished job span');

    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.attributes[CORRELATION_ID_ATTRIBUTE] === id);
    expect(server?.name).toBe('POST /v1/events');
    expect(server?.attributes).toMatchObject({ 'http.response.status_code': 202, 'rpa.outcome': 'accepted' });
    const trace = spans().filter((s) => traceOf(s) === traceOf(server as ReadableSpan));
    const kinds = trace.map((s) => `${SpanKind[s.kind]} ${s.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'SERVER POST /v1/events',
        expect.stringMatching(/^PRODUCER add billing-account-update/),
        expect.stringMatching(/^CONSUMER process billing-account-update/),
        'CLIENT orchestrator startJob',
      ]),
    );
    const consumer = trace.find((s) => s.kind === SpanKind.CONSUMER);
    expect(consumer?.attributes[CORRELATION_ID_ATTRIBUTE]).toBe(id);
    const start = trace.find((s) => s.name === 'orchestrator startJob');
    expect(start?.attributes).toMatchObject({
      [CORRELATION_ID_ATTRIBUTE]: id,
      'http.request.method': 'POST',
      'http.response.status_code': 201,
    });
    // Nothing from the body but the correlationId travels in any span.
    const everything = JSON.stringify(spans().map((s) => [s.name, s.attributes, s.events]));
    for (const canary of ['Jane Canary', '4111', String(ev.contactId)]) expect(everything).not.toContain(canary);
  });

  it('a rejected webhook is a failed-status server span with its outcome, and starts no trace downstream', async () => {
    const before = spans().length;
    const res = await post(receiver.url, flatEvent({ eventType: 'no.such.route' }));
    expect(res.status).toBe(422);
    await eventually(() => spans().length > before, 5000, 'the span');
    const span = spans()
      .slice(before)
      .find((s) => s.kind === SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({ 'http.response.status_code': 422, 'rpa.outcome': 'no_route' });
    expect(spans().filter((s) => traceOf(s) === traceOf(span as ReadableSpan))).toHaveLength(1);
  });
});
