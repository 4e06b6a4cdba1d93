import { describe, expect, it } from 'vitest';
import { deriveCorrelationId } from './correlation.js';
import { BridgeError } from './errors.js';
import { normaliseEvent } from './event.js';

const flat = {
  eventType: 'interaction.completed',
  timestamp: '2023-10-27T14:30:00Z',
  contactId: '89a7d5c2-1b3e-4f9a-8d2c-6e7f8a9b0c1d',
  userId: 'agent-id-12345',
  interactionId: 'int-uuid-67890',
  correlationId: 'rpa-trigger-unique-uuid',
  metadata: { department: 'billing', taskType: 'account_update' },
};

const issuesOf = (body: unknown) => {
  try {
    normaliseEvent(body);
  } catch (err) {
    if (err instanceof BridgeError) return err.issues?.map((i) => i.path) ?? [];
  }
  return [];
};

describe('normaliseEvent', () => {
  it('keeps the flat form, canonicalising the timestamp', () => {
    expect(normaliseEvent(flat)).toEqual({ form: 'flat', ...flat, timestamp: '2023-10-27T14:30:00.000Z' });
  });

  it('accepts epoch milliseconds and offsets', () => {
    expect(normaliseEvent({ ...flat, timestamp: 1765551865126 }).timestamp).toBe('2025-12-12T15:04:25.126Z');
    expect(normaliseEvent({ ...flat, timestamp: '2023-10-27T16:30:00+02:00' }).timestamp).toBe(
      '2023-10-27T14:30:00.000Z',
    );
    expect(issuesOf({ ...flat, timestamp: 12 })).toEqual(['timestamp']);
    expect(issuesOf({ ...flat, timestamp: '2023-13-45T99:00:00Z' })).toEqual(['timestamp']);
  });

  it('refuses numbers where string ids belong, and empty strings', () => {
    expect(issuesOf({ ...flat, contactId: 123, interactionId: '' })).toEqual(['contactId', 'interactionId']);
    expect(issuesOf({ ...flat, userId: 5 })).toEqual(['userId']);
    expect(issuesOf({ ...flat, correlationId: 7 })).toEqual(['correlationId']);
    expect(issuesOf([flat])).toEqual(['']);
    expect(issuesOf({ ...flat, metadata: 'x' })).toEqual(['metadata']);
    expect(issuesOf({ ...flat, metadata: null })).toEqual(['metadata']);
  });

  it('derives a UUIDv5 correlationId when none is given, stable across redeliveries', () => {
    const { correlationId: _, ...rest } = flat;
    const a = normaliseEvent(rest);
    expect(a.correlationId).toBe(deriveCorrelationId(flat.eventType, flat.interactionId, flat.contactId));
    expect(normaliseEvent({ ...rest, metadata: { other: 1 } }).correlationId).toBe(a.correlationId);
    expect(normaliseEvent(rest, 'from-header').correlationId).toBe('from-header');
    expect(normaliseEvent(flat, 'from-header').correlationId).toBe(flat.correlationId);
  });

  it('maps EventBridge: contactId fallbacks, EventBridge id when metadata has no CorrelationId', () => {
    const detail = {
      topicName: 'v2.detail.events.conversation.abc.user.end',
      version: '2',
      eventBody: {
        eventTime: 1765552507657,
        conversationId: 'abc',
        participantId: 'p1',
        conversationExternalContactIds: ['x1', 'x2'],
      },
      metadata: {},
    };
    const ev = normaliseEvent({ id: 'eb-1', 'detail-type': 'v2.detail.events.conversation.{id}.user.end', detail });
    expect(ev).toMatchObject({
      eventType: 'conversation.user.end',
      contactId: 'x1',
      correlationId: 'eb-1',
      form: 'eventbridge',
    });
    expect(ev.timestamp).toBe('2025-12-12T15:15:07.657Z');
    const bare = normaliseEvent(
      { ...detail, eventBody: { ...detail.eventBody, conversationExternalContactIds: [] } },
      'h',
    );
    expect(bare).toMatchObject({ contactId: 'p1', correlationId: 'h', form: 'notification' });
  });

  it('names the sender-side path of EventBridge problems', () => {
    const body = {
      id: 'x',
      'detail-type': 't',
      detail: { topicName: 'v2.detail.events.conversation.c.acw', eventBody: { conversationId: 9, eventTime: 'soon' } },
    };
    expect(issuesOf(body).sort()).toEqual([
      'detail.eventBody.conversationId',
      'detail.eventBody.eventTime',
      'detail.eventBody.participantId',
    ]);
  });

  it('does not follow __proto__ keys', () => {
    const body = JSON.parse(
      '{"__proto__": {"eventType": "polluted"}, "timestamp": 1765551865126, "contactId": "c", "interactionId": "i"}',
    );
    expect(issuesOf(body)).toEqual(['eventType']);
    expect(({} as Record<string, unknown>).eventType).toBeUndefined();
  });
});
