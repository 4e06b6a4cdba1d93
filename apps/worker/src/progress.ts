/**
 * What the worker records on the BullMQ job (its `progress`) about the
 * Orchestrator side, so that any later run of the job (retry, stall re-run,
 * redrive) knows whether a start may already have happened.
 */
export type StartProgress =
  /** Nothing recorded: on the job's first run nothing can have been sent yet. */
  | { phase: 'new' }
  /** Every earlier start request was proven unsent (429, no connection): no lookup needed. */
  | { phase: 'idle' }
  /** A start request may have reached Orchestrator (set by redrive for jobs that ran before). */
  | { phase: 'starting'; at: string }
  | {
      phase: 'started';
      at: string;
      target: 'job' | 'queue';
      /** Orchestrator Job Id or QueueItem Id (absent for a duplicate queue Reference). */
      orchestratorId?: number;
      /** How it became known: our own start call, or a Reference lookup after an ambiguous attempt. */
      via: 'start' | 'lookup' | 'duplicate-reference';
      robotState?: string;
    };

export function readProgress(progress: unknown): StartProgress {
  if (progress && typeof progress === 'object' && 'phase' in progress) {
    const p = progress as StartProgress;
    if (p.phase === 'starting' || p.phase === 'started' || p.phase === 'idle') return p;
  }
  return { phase: 'new' };
}

/**
 * Whether an earlier run may have sent a start request. A run after the first
 * (BullMQ counts started runs: retries, stall re-runs) may have, unless it was
 * proven unsent; so only the very first run skips the Reference lookup, and no
 * write is needed before the first start request.
 */
export function mayHaveStarted(progress: StartProgress, attemptsStarted: number): boolean {
  if (progress.phase === 'starting') return true;
  return progress.phase === 'new' && attemptsStarted > 1;
}
