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
  /** Serialises an entry exactly as `record` stores it (scripts use `template`, which is checked against this). */
  serialise(entry: Omit<AuditEntry, 'at'>, at?: Date): string;
  /**
   * `serialise` for an entry fixed in advance, split around its time: the
   * entry at time t is `head + t.toISOString() + tail` (the receiver's write
   * script splices the time in per request).
   */
  template(entry: Omit<AuditEntry, 'at'>): AuditTemplate;
}

/** `[head, tail]`: an entry's JSON before and after its ISO time. */
export type AuditTemplate = readonly [head: string, tail: string];

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
  /** Entries recorded in the same event-loop turn go out in one transaction (one round trip). */
  let pending: { key: string; values: string[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  function flush() {
    const batch = pending;
    pending = [];
    const tx = redis.multi();
    for (const p of batch)
      tx.rpush(p.key, ...p.values)
        .ltrim(p.key, -AUDIT_MAX_ENTRIES, -1)
        .pexpire(p.key, ttlMs);
    tx.exec().then(
      (res) => {
        const failed = res?.find(([err]) => err)?.[0];
        for (const p of batch) failed ? p.reject(failed) : p.resolve();
      },
      (err) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  const template = (entry: Omit<AuditEntry, 'at'>): AuditTemplate => {
    const json = serialise(entry, new Date(0));
    const epoch = new Date(0).toISOString();
    const cut = json.lastIndexOf(`"${epoch}"`) + 1; // `at` is the last key; ISO strings need no escaping
    return [json.slice(0, cut), json.slice(cut + epoch.length)];
  };

  return {
    serialise,
    template,
    record(correlationId, ...entries) {
      if (entries.length === 0) return Promise.resolve();
      const at = now();
      return new Promise<void>((resolve, reject) => {
        pending.push({
          key: auditKey(prefix, correlationId),
          values: entries.map((e) => serialise(e, at)),
          resolve,
          reject,
        });
        if (pending.length === 1) setImmediate(flush);
      });
    },
    async read(correlationId) {
      const items = await redis.lrange(auditKey(prefix, correlationId), 0, -1);
      return items.map((s) => JSON.parse(s) as AuditEntry);
    },
  };
}
