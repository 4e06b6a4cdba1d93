import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Env } from './env.js';

/** The span attribute every rpa-bridge span carries: receiver, queue, worker, Orchestrator call. */
export const CORRELATION_ID_ATTRIBUTE = 'rpa.correlation_id';
export const TRACER_NAME = 'rpa-bridge';

export interface TracingConfig {
  /** On when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or `…_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not `true`. */
  enabled: boolean;
  /** `OTEL_SERVICE_NAME`, else the process's own name. */
  serviceName: string;
}

/** The standard OpenTelemetry variables, read once at start; the exporter reads its own (headers, protocol, timeout). */
export function readTracingConfig(env: Env, defaultServiceName: string): TracingConfig {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return {
    enabled: Boolean(endpoint) && env.OTEL_SDK_DISABLED !== 'true',
    serviceName: env.OTEL_SERVICE_NAME || defaultServiceName,
  };
}

export interface Tracing {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider exporting over OTLP/HTTP when enabled;
 * otherwise nothing is registered (nor loaded) and the API's spans are no-ops.
 * Tests pass their own span processor (an in-memory exporter).
 */
export async function startTracing(config: TracingConfig, processor?: SpanProcessor): Promise<Tracing> {
  if (!config.enabled && !processor) return { enabled: false, shutdown: async () => {} };
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { resourceFromAttributes }, { OTLPTraceExporter }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [processor ?? new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  return {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

export const tracer = () => trace.getTracer(TRACER_NAME);

/** Runs `fn` in a new active span; the span ends when `fn` settles and is marked failed if it throws. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string })?.code ?? 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
