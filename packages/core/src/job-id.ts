import { hash } from 'node:crypto';

/**
 * A BullMQ-safe job id for a correlationId. BullMQ rejects ids containing `:`
 * and integer-like ids, and Redis keys embed the id, so the id is a prefixed
 * SHA-256 (base64url): fixed length, never all digits, no `:`, collision-free
 * in practice, and it does not repeat the correlationId itself.
 */
export const toJobId = (correlationId: string): string => `c-${hash('sha256', correlationId, 'base64url')}`;
