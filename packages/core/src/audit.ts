import type { Redis } from 'ioredis';
import { toJobId } from './job-id.js';
import type { Redactor } from './redaction.js';

/** The lifecycle of one transaction (SPEC §6). */
export type AuditType =
  | 'received'
  | 'rejected'
  | 'duplicate'
  | 'enqueued'
  | 'started'
  | 'retried'
  | 'succeeded'
  | 'failed'
  | 'dead-lettered'
  | 'redriven'
  | 'completed';

export interface AuditEntry {
  type: AuditType;
  /** ISO-8601 time of the transition. */
  at: string;
  route?: string;
  reason?: string;
  attempt?: number;
  orchestratorJobId?: string | number;
  state?: string;
}

/** Entries beyond this many per transaction are trimmed (oldest first). */
export const AUDIT_MAX_ENTRIES = 200;

/** One list per transaction, keyed by the hashed id so the key name carries nothing sensitive. */
export const auditKey = (prefix: string, correlationId: string): string =>
  auditKeyForJobId(prefix, toJobId(correlationId));

/** The same key when the job id (the hashed correlationId) is already at hand. */
export const auditKeyForJobId = (prefix: string, jobId: string): string => `${prefix}:_audit:${jobId}`;

export interface AuditTrail {
  record(correlationId: string, ...entries: Omit<AuditEntry, 'at'>[]): Promise<void>;
  read(correlationId: string): Promise<AuditEntry[]>;
  /** Serialises entries exactly as `record` stores them (for atomic writes in scripts). */
  serialise(entry: Omit<AuditEntry, 'at'>, at?: Date): string;
}

export interface AuditTrailOptions {
  redis: Redis;
  prefix: string;
  /** How long a transaction's trail is kept after its last entry. */
  ttlMs: number;
  redactor: Redactor;
  now?: () => Date;
}

export function createAuditTrail({
  redis,
  prefix,
  ttlMs,
  redactor,
  now = () => new Date(),
}: AuditTrailOptions): AuditTrail {
  const serialise = (entry: Omit<AuditEntry, 'at'>, at: Date = now()): string => {
    const clean: AuditEntry = { ...entry, at: at.toISOString() };
    if (clean.reason !== undefined) clean.reason = redactor.text(clean.reason).slice(0, 1000);
    return JSON.stringify(clean);
  };
  return {
    serialise,
    async record(correlationId, ...entries) {
      if (entries.length === 0) return;
      const key = auditKey(prefix, correlationId);
      const at = now();
      await redis
        .multi()
        .rpush(key, ...entries.map((e) => serialise(e, at)))
        .ltrim(key, -AUDIT_MAX_ENTRIES, -1)
        .pexpire(key, ttlMs)
        .exec();
    },
    async read(correlationId) {
      const items = await redis.lrange(auditKey(prefix, correlationId), 0, -1);
      return items.map((s) => JSON.parse(s) as AuditEntry);
    },
  };
}
