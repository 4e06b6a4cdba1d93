import { v5 as uuidv5 } from 'uuid';

/** Namespace for derived correlation ids (a fixed, random UUID owned by rpa-bridge). */
export const CORRELATION_NAMESPACE = '1b0b3c8e-4f1a-4f5e-9a57-8a3e6f0d2c41';

export const MAX_CORRELATION_ID_LENGTH = 128;

/**
 * A deterministic correlationId for events that carry none, so that a
 * redelivery of the same event maps to the same id (and the same job).
 */
export function deriveCorrelationId(eventType: string, interactionId: string, contactId: string): string {
  return uuidv5(JSON.stringify([eventType, interactionId, contactId]), CORRELATION_NAMESPACE);
}
