/**
 * What the worker records on the BullMQ job (its `progress`) about the
 * Orchestrator side, so that any later run of the job (retry, stall re-run,
 * redrive) knows whether a start may already have happened.
 */
export type StartProgress =
  | { phase: 'idle' }
  /** A start request is about to be or was sent; its outcome is unknown until `started`. */
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
  return { phase: 'idle' };
}
