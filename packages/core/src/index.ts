/**
 * rpa-bridge core.
 *
 * Terms used across the project:
 * - event: what Genesys Cloud sends when an interaction ends, in any accepted
 *   form, normalised to one `InteractionEvent`.
 * - correlationId: the event's idempotency key (body, `X-Correlation-Id`, or a
 *   UUIDv5 of eventType + interactionId + contactId); the Orchestrator Reference.
 * - route: a configured rule that matches events and says which Orchestrator
 *   target gets them, with which inputs (an allowlist of fields).
 * - target: an Orchestrator process (StartJobs) or queue (AddQueueItem).
 * - transaction: one correlationId's life from receipt to robot start, as
 *   recorded in the audit trail.
 * - dead letter: a job that failed permanently or ran out of attempts; it stays
 *   in BullMQ's failed set, visible and redrivable in Bull Board.
 */
export * from './api-key.js';
export * from './audit.js';
export * from './config.js';
export * from './correlation.js';
export * from './crypto.js';
export * from './duration.js';
export * from './env.js';
export * from './errors.js';
export * from './event.js';
export * from './ip-allowlist.js';
export * from './job-id.js';
export * from './jobs.js';
export * from './logger.js';
export * from './paths.js';
export * from './payloads.js';
export * from './queue-metrics.js';
export * from './redaction.js';
export * from './redrive.js';
export * from './routes.js';
export * from './secret-sources.js';
export * from './signature.js';
export * from './tracing.js';
export * from './worker-config.js';
