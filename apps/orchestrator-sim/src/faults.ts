/** Simulator operations a fault can target. */
export type SimOperation =
  | 'token'
  | 'releases'
  | 'folders'
  | 'startJobs'
  | 'getJob'
  | 'findJobs'
  | 'addQueueItem'
  | 'getQueueItem'
  | 'findQueueItems';

/**
 * - `reject`: answer `status` without processing the request.
 * - `reset`: drop the connection without processing.
 * - `accept-then-fail`: process (the job exists), then answer `status`.
 * - `accept-then-reset`: process, then drop the connection.
 * - `delay`: wait `delayMs`, then process normally (combine with a short client timeout).
 */
export type FaultMode = 'reject' | 'reset' | 'accept-then-fail' | 'accept-then-reset' | 'delay';

export interface FaultRule {
  operation: SimOperation;
  mode: FaultMode;
  /** HTTP status for reject / accept-then-fail (default 500). */
  status?: number;
  /** Seconds for a `Retry-After` header. */
  retryAfter?: number;
  /** Wait before anything else happens (any mode). */
  delayMs?: number;
  /** How many requests it hits (default 1; -1 = until cleared). */
  times?: number;
  /** Only requests whose body or query contains this text (e.g. one Reference). */
  match?: string;
}

export interface ActiveFault extends Required<Pick<FaultRule, 'operation' | 'mode' | 'times'>> {
  rule: FaultRule;
  hits: number;
}

export class FaultTable {
  private rules: ActiveFault[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ operation: rule.operation, mode: rule.mode, times: rule.times ?? 1, rule, hits: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  list(): ActiveFault[] {
    return this.rules;
  }

  needsText(operation: SimOperation): boolean {
    return this.rules.some((r) => r.operation === operation && r.rule.match !== undefined);
  }

  /** The first rule for this operation that still has hits left (and matches), consuming one hit. */
  take(operation: SimOperation, requestText: string): FaultRule | undefined {
    const f = this.rules.find(
      (r) =>
        r.operation === operation &&
        (r.times === -1 || r.hits < r.times) &&
        (r.rule.match === undefined || requestText.includes(r.rule.match)),
    );
    if (!f) return undefined;
    f.hits++;
    return f.rule;
  }
}
