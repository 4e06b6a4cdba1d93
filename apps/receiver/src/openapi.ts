import {
  acceptedBody,
  errorBody,
  eventBridgePayload,
  flatEventPayload,
  notificationPayload,
  redriveRequest,
  redriveResult,
  transactionBody,
} from '@rpa-bridge/core';
import { type ZodType, z } from 'zod';

const schema = (s: ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const err = (description: string, headers?: Record<string, unknown>) => ({
  description,
  content: json('Error'),
  ...(headers ? { headers } : {}),
});
const retryAfter = { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds before retrying' } };

const ingest = {
  summary: 'Receive a Genesys Cloud interaction event',
  description:
    'Authenticates (API key, HMAC over the raw body, IP allowlist: every configured check applies), validates, keeps only route-mapped fields and enqueues durably. 2xx only once the job is in Redis.',
  security: [{ apiKey: [], genesysSignature: [] }, { bearerKey: [] }, { basicKey: [] }, { hubSignature: [] }],
  parameters: [{ name: 'X-Correlation-Id', in: 'header', required: false, schema: { type: 'string', maxLength: 128 } }],
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: {
          oneOf: ['FlatEvent', 'EventBridgeEvent', 'Notification'].map((r) => ({ $ref: `#/components/schemas/${r}` })),
        },
      },
    },
  },
  responses: {
    '202': { description: 'accepted: durably enqueued', content: json('Accepted') },
    '200': { description: 'duplicate: this correlationId is already known', content: json('Accepted') },
    '400': err('invalid_json or invalid_payload (issues list field paths, never values)'),
    '401': err('unauthorized: missing or wrong API key or signature, event outside MAX_EVENT_AGE'),
    '403': err('forbidden: source address not in ALLOWED_IPS'),
    '413': err('payload_too_large: over MAX_BODY_BYTES'),
    '415': err('unsupported_media_type: not JSON'),
    '422': err('no_route: valid, but no route matches'),
    '429': err('overloaded: backlog over MAX_BACKLOG (retry)', retryAfter),
    '503': err('unavailable: Redis unreachable or too slow (retry)', retryAfter),
  },
};

/** The receiver's OpenAPI 3.1 document, generated from the zod schemas the code uses. */
export function buildOpenApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'rpa-bridge receiver',
      version: '0.1.0',
      description: 'Genesys Cloud CX events in, UiPath Orchestrator robot work out.',
    },
    paths: {
      '/v1/events': { post: { ...ingest, operationId: 'postEvent' } },
      '/webhooks/genesys': { post: { ...ingest, operationId: 'postGenesysWebhook' } },
      '/healthz': { get: { summary: 'Process is up', security: [], responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Redis reachable, routes loaded',
          security: [],
          responses: { '200': { description: 'ready' }, '503': err('Redis unreachable') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text/plain exposition', content: { 'text/plain': {} } } },
        },
      },
      '/v1/transactions/{correlationId}': {
        get: {
          summary: 'Audit timeline of one transaction',
          security: [{ adminBearer: [] }, { adminBasic: [] }],
          parameters: [{ name: 'correlationId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the timeline', content: json('Transaction') },
            '401': err('admin credentials required'),
            '404': err('unknown correlationId, or admin disabled'),
          },
        },
      },
      '/v1/dead-letters/redrive': {
        post: {
          summary: 'Send dead letters back to work (fresh attempt budget, same job id)',
          security: [{ adminBearer: [] }, { adminBasic: [] }],
          requestBody: { required: true, content: json('RedriveRequest') },
          responses: {
            '200': { description: 'what matched and what was redriven', content: json('RedriveResult') },
            '400': err('no filter given'),
            '401': err('admin credentials required'),
          },
        },
      },
      '/admin/queues': {
        get: {
          summary: 'Bull Board (HTML)',
          security: [{ adminBearer: [] }, { adminBasic: [] }],
          responses: { '200': { description: 'the board' } },
        },
      },
    },
    components: {
      schemas: {
        FlatEvent: schema(flatEventPayload, 'input'),
        EventBridgeEvent: schema(eventBridgePayload, 'input'),
        Notification: schema(notificationPayload, 'input'),
        Accepted: schema(acceptedBody),
        Error: schema(errorBody),
        RedriveRequest: schema(redriveRequest, 'input'),
        RedriveResult: schema(redriveResult),
        Transaction: schema(transactionBody),
      },
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearerKey: { type: 'http', scheme: 'bearer', description: 'the API key as a bearer token' },
        basicKey: {
          type: 'http',
          scheme: 'basic',
          description: 'the API key as the password (or as the user, with an empty password)',
        },
        genesysSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Genesys-Signature',
          description: 'sha256=<hex HMAC-SHA256 of the raw body>',
        },
        hubSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Hub-Signature-256',
          description: 'sha256=<base64 or hex HMAC-SHA256 of the raw body>',
        },
        adminBearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        adminBasic: { type: 'http', scheme: 'basic', description: 'ADMIN_USER / ADMIN_PASSWORD' },
      },
    },
  };
}
