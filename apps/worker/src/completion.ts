import type { Folder, JobDto, OrchestratorClient } from '@rpa-bridge/uipath-client';
import { isOrchestratorError, TERMINAL_STATES } from '@rpa-bridge/uipath-client';

export interface CompletionOptions {
  /** First poll delay; doubles up to `maxMs` (defaults 1 s and 30 s). */
  minMs: number;
  maxMs: number;
  signal: AbortSignal;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/**
 * Polls `GET /odata/Jobs({id})` (by id: not rate-limited like collection
 * queries) with backoff until Successful, Faulted or Stopped. Transient
 * failures keep polling; a permanent one (e.g. 404) ends it.
 */
export async function waitForTerminal(
  client: OrchestratorClient,
  id: number,
  folder: Folder,
  o: CompletionOptions,
): Promise<JobDto> {
  let delay = o.minMs;
  for (;;) {
    try {
      const job = await client.getJob(id, folder, o.signal);
      if (TERMINAL_STATES.has(job.State)) return job;
    } catch (err) {
      if (!isOrchestratorError(err) || err.kind === 'permanent') throw err;
      delay = Math.max(delay, err.retryAfterMs ?? 0);
    }
    await sleep(delay, o.signal);
    delay = Math.min(o.maxMs, delay * 2);
  }
}
