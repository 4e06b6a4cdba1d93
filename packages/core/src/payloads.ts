import { z } from 'zod';

/**
 * The wire contract of `POST /v1/events`, as zod schemas: the OpenAPI document
 * is generated from them, and the tests hold the Genesys samples to them.
 * Normalisation (event.ts) then turns any of them into one InteractionEvent.
 */
const text = z.string().min(1);
const timestamp = z.union([z.iso.datetime({ offset: true }), z.number().int().describe('epoch milliseconds')]);

export const flatEventPayload = z
  .looseObject({
    eventType: text.describe('e.g. interaction.completed'),
    timestamp,
    contactId: text,
    interactionId: text,
    userId: z.string().optional(),
    correlationId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('idempotency key; else X-Correlation-Id; else a UUIDv5'),
    metadata: z.record(z.string(), z.unknown()).optional().describe('reachable by routes as metadata.*'),
  })
  .describe('The flat form a Genesys data action or payload template sends');

export const notificationPayload = z
  .looseObject({
    topicName: text.describe('v2.detail.events.conversation.{id}.acw, .customer.end, …'),
    version: z.string().optional(),
    eventBody: z.looseObject({
      conversationId: text.describe('becomes interactionId'),
      eventTime: timestamp.optional(),
      externalContactId: z.string().optional(),
      conversationExternalContactIds: z.array(z.string()).optional(),
      participantId: z.string().optional(),
      userId: z.string().optional(),
    }),
    metadata: z.looseObject({ CorrelationId: z.string().optional() }).optional(),
  })
  .describe('A Genesys Cloud notification without the EventBridge wrapper');

export const eventBridgePayload = z
  .looseObject({
    version: z.string().optional(),
    id: text.describe('used as correlationId when detail.metadata.CorrelationId is absent'),
    'detail-type': text,
    source: z.string().optional(),
    time: z.string().optional(),
    detail: notificationPayload.extend({ timestamp: z.iso.datetime({ offset: true }).optional() }),
  })
  .describe('A Genesys Cloud event as an EventBridge API destination posts it');

export const eventPayload = z.union([flatEventPayload, eventBridgePayload, notificationPayload]);

export const acceptedBody = z.object({
  status: z.enum(['accepted', 'duplicate']),
  correlationId: z.string(),
});

export const errorBody = z.object({
  error: z.string().describe('a stable code: invalid_json, invalid_payload, unauthorized, forbidden, …'),
  message: z.string().describe('never echoes request values'),
  correlationId: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const redriveRequest = z
  .strictObject({
    correlationId: z.string().min(1).max(128).optional(),
    route: z.string().min(1).optional(),
    reason: z.string().min(1).optional().describe('case-insensitive substring of the failure reason'),
    all: z.boolean().optional(),
    dryRun: z.boolean().default(false),
  })
  .refine((b) => b.correlationId !== undefined || b.route !== undefined || b.reason !== undefined || b.all === true, {
    message: 'needs correlationId, route, reason or all: true',
  });

export const redriveResult = z.object({
  dryRun: z.boolean(),
  redriven: z.number().int(),
  matched: z.array(
    z.object({
      correlationId: z.string(),
      route: z.string(),
      jobId: z.string(),
      reason: z.string(),
      attemptsMade: z.number().int(),
    }),
  ),
});

export const auditEntryBody = z.looseObject({
  type: z.enum([
    'received',
    'rejected',
    'duplicate',
    'enqueued',
    'started',
    'retried',
    'succeeded',
    'failed',
    'dead-lettered',
    'redriven',
    'completed',
  ]),
  at: z.iso.datetime(),
  route: z.string().optional(),
  reason: z.string().optional(),
  attempt: z.number().int().optional(),
  orchestratorJobId: z.union([z.number(), z.string()]).optional(),
  state: z.string().optional(),
});

export const transactionBody = z.object({ correlationId: z.string(), entries: z.array(auditEntryBody) });
