import { z } from 'zod';
import { deriveCorrelationId, MAX_CORRELATION_ID_LENGTH } from './correlation.js';
import { BridgeError, type Issue } from './errors.js';
import { isPlainObject } from './paths.js';

/** The one internal shape every accepted payload form is normalised to. */
export interface InteractionEvent {
  eventType: string;
  /** ISO-8601, UTC. */
  timestamp: string;
  contactId: string;
  interactionId: string;
  userId?: string;
  correlationId: string;
  metadata: Record<string, unknown>;
}

export type PayloadForm = 'flat' | 'eventbridge' | 'notification';

const CONVERSATION_TOPIC = /^v2\.detail\.events\.conversation\.([^.]+)\.(.+)$/;
const MIN_EPOCH_MS = Date.UTC(2000, 0, 1);
const MAX_EPOCH_MS = Date.UTC(2200, 0, 1);

const nonEmpty = (what: string) => z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`);

const eventSchema = z.object({
  eventType: nonEmpty('eventType'),
  timestamp: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time or epoch milliseconds' }),
  contactId: nonEmpty('contactId'),
  interactionId: nonEmpty('interactionId'),
  userId: z.string({ error: 'userId must be a string' }).optional(),
  correlationId: z
    .string({ error: 'correlationId must be a string' })
    .min(1, 'correlationId must not be empty')
    .max(MAX_CORRELATION_ID_LENGTH, `correlationId must be at most ${MAX_CORRELATION_ID_LENGTH} characters`)
    .optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'metadata must be an object' }),
});

/** Where each field was read from, so errors name the sender's own path. */
type Sources = Record<keyof InteractionEvent, string>;

interface Candidate {
  form: PayloadForm;
  fields: Record<keyof InteractionEvent, unknown>;
  sources: Sources;
}

export function detectForm(body: Record<string, unknown>): PayloadForm {
  if (isPlainObject(body.detail) && ('topicName' in body.detail || 'detail-type' in body)) return 'eventbridge';
  if ('topicName' in body && 'eventBody' in body) return 'notification';
  return 'flat';
}

/** `conversation.acw` for `v2.detail.events.conversation.{id}.acw`; other topics keep their name minus `v2.`. */
export function eventTypeForTopic(topicName: unknown, fallbackPattern?: unknown): unknown {
  if (typeof topicName !== 'string') return topicName;
  const m = CONVERSATION_TOPIC.exec(topicName);
  if (m) return `conversation.${m[2]}`;
  const name = typeof fallbackPattern === 'string' ? fallbackPattern : topicName;
  return name.replace(/^v2\./, '');
}

function firstString(list: unknown): unknown {
  return Array.isArray(list) && list.length > 0 ? list[0] : undefined;
}

function fromNotification(
  n: Record<string, unknown>,
  base: string,
  extra: { timestamp?: unknown; correlationId?: unknown; pattern?: unknown; ebId?: unknown },
): Candidate {
  const body = isPlainObject(n.eventBody) ? n.eventBody : {};
  const meta = isPlainObject(n.metadata) ? n.metadata : {};
  const contact =
    body.externalContactId !== undefined
      ? ['externalContactId', body.externalContactId]
      : firstString(body.conversationExternalContactIds) !== undefined
        ? ['conversationExternalContactIds.0', firstString(body.conversationExternalContactIds)]
        : ['participantId', body.participantId];
  const correlation =
    meta.CorrelationId !== undefined
      ? [`${base}metadata.CorrelationId`, meta.CorrelationId]
      : extra.ebId !== undefined
        ? ['id', extra.ebId]
        : ['', undefined];
  return {
    form: base === '' ? 'notification' : 'eventbridge',
    fields: {
      eventType: eventTypeForTopic(n.topicName, extra.pattern),
      timestamp: extra.timestamp ?? body.eventTime,
      contactId: contact[1],
      interactionId: body.conversationId,
      userId: body.userId,
      correlationId: correlation[1],
      metadata: isPlainObject(n.eventBody) ? n.eventBody : n.eventBody === undefined ? {} : n.eventBody,
    },
    sources: {
      eventType: `${base}topicName`,
      timestamp: extra.timestamp !== undefined ? `${base}timestamp` : `${base}eventBody.eventTime`,
      contactId: `${base}eventBody.${contact[0]}`,
      interactionId: `${base}eventBody.conversationId`,
      userId: `${base}eventBody.userId`,
      correlationId: (correlation[0] as string) || 'correlationId',
      metadata: `${base}eventBody`,
    },
  };
}

function candidateOf(body: Record<string, unknown>): Candidate {
  const form = detectForm(body);
  if (form === 'eventbridge') {
    const detail = body.detail as Record<string, unknown>;
    return fromNotification(detail, 'detail.', {
      timestamp: detail.timestamp,
      pattern: body['detail-type'],
      ebId: body.id,
    });
  }
  if (form === 'notification') return fromNotification(body, '', {});
  const own = (k: keyof InteractionEvent) => (Object.hasOwn(body, k) ? body[k] : undefined);
  const metadata = own('metadata');
  const fields = {
    eventType: own('eventType'),
    timestamp: own('timestamp'),
    contactId: own('contactId'),
    interactionId: own('interactionId'),
    userId: own('userId'),
    correlationId: own('correlationId'),
    metadata: metadata === undefined ? {} : metadata, // null stays, for the schema to refuse
  };
  return { form, fields, sources: FLAT_SOURCES };
}

/** A flat body's fields are read from their own names. */
const FLAT_SOURCES: Sources = {
  eventType: 'eventType',
  timestamp: 'timestamp',
  contactId: 'contactId',
  interactionId: 'interactionId',
  userId: 'userId',
  correlationId: 'correlationId',
  metadata: 'metadata',
};

/** ISO strings are canonicalised to UTC; epoch milliseconds (number or digit string) become ISO. */
export function normaliseTimestamp(value: unknown): unknown {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d{10,16}$/.test(value)) ms = Number(value);
  if (ms !== undefined) {
    if (!Number.isInteger(ms) || ms < MIN_EPOCH_MS || ms > MAX_EPOCH_MS) return 'invalid';
    return new Date(ms).toISOString();
  }
  return value;
}

/**
 * Turns any accepted payload form into an InteractionEvent, or throws
 * `invalid_payload` listing every problem by the sender's field path.
 */
export function normaliseEvent(body: unknown, headerCorrelationId?: string): InteractionEvent & { form: PayloadForm } {
  if (!isPlainObject(body)) {
    throw new BridgeError('invalid_payload', 'the body must be a JSON object', {
      issues: [{ path: '', message: 'must be a JSON object' }],
    });
  }
  const { form, fields, sources } = candidateOf(body);
  const input = { ...fields, timestamp: normaliseTimestamp(fields.timestamp) };
  if (input.userId === null) input.userId = undefined;
  const parsed = eventSchema.safeParse(input);
  const issues: Issue[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '') as keyof InteractionEvent;
      const message =
        issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? 'is required' : issue.message;
      issues.push({ path: sources[field] ?? field, message: message.replace(`${field} `, '') });
    }
  }
  const iso = parsed.success ? new Date(parsed.data.timestamp) : undefined;
  if (iso && Number.isNaN(iso.getTime())) issues.push({ path: sources.timestamp, message: 'is not a real date' });
  if (!parsed.success || issues.length > 0) {
    throw new BridgeError('invalid_payload', 'the event does not match the schema', { issues });
  }
  const e = parsed.data;
  let correlationId = e.correlationId;
  if (correlationId === undefined && headerCorrelationId !== undefined) {
    const h = headerCorrelationId.trim();
    if (h === '' || h.length > MAX_CORRELATION_ID_LENGTH) {
      throw new BridgeError('invalid_payload', 'the X-Correlation-Id header is invalid', {
        issues: [{ path: 'header:X-Correlation-Id', message: `must be 1-${MAX_CORRELATION_ID_LENGTH} characters` }],
      });
    }
    correlationId = h;
  }
  correlationId ??= deriveCorrelationId(e.eventType, e.interactionId, e.contactId);
  const event: InteractionEvent & { form: PayloadForm } = {
    form,
    eventType: e.eventType,
    timestamp: (iso as Date).toISOString(),
    contactId: e.contactId,
    interactionId: e.interactionId,
    correlationId,
    metadata: e.metadata,
  };
  if (e.userId !== undefined) event.userId = e.userId;
  return event;
}
