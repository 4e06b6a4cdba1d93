import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for this process.
 *
 * V8 watches which allocation sites' objects survive scavenges and, past a
 * threshold, allocates that site's objects in the old generation from then
 * on. Under load, some receiver processes had a per-request site promoted so:
 * ~3 KB a request went straight to old space (40 MB/s instead of ~2.5), a
 * mark-compact every ~2 s, scavenges 8 ms instead of 3, thousands of page
 * faults a second and ~25 % more CPU a request, for whole 10-s runs, coming
 * back in later ones. Seen fully in 3 of 15 process-rounds at 100
 * connections and partly in 3 more; in none of 15 with the flag, whose runs
 * measured the same otherwise (docs/benchmarks.md). The receiver's objects
 * live for a request or for the process, so the heuristic has little to win.
 *
 * Set from code because NODE_OPTIONS refuses V8 flags outside a short list,
 * and this way it holds however the receiver is started (image, compose,
 * Kubernetes, bench). V8 reads it at each scavenge, so setting it at start-up
 * takes effect; it ignores a flag it does not know, so heap-tuning.test.ts
 * checks that this Node's V8 still knows it.
 */
export function tuneHeap(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
