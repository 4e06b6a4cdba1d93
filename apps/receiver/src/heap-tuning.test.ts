import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `code` as an ES module in a fresh Node process (with tsx, for the .ts import). */
function runNode(code: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tuneHeap', () => {
  // V8 ignores a flag it does not know, with only a line on stderr: a Node upgrade that drops
  // or renames the flag would otherwise leave the receiver untuned without a word.
  it('sets a flag this Node version knows', () => {
    const r = runNode(`import { tuneHeap } from './heap-tuning.ts'; tuneHeap(); console.log('tuned');`);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('tuned');
    expect(r.stderr).not.toMatch(/unrecognized flag/);
  });

  it('would notice an unknown flag (the check above can fail)', () => {
    const r = runNode(`import { setFlagsFromString } from 'node:v8'; setFlagsFromString('--no-rpa-bridge-unknown');`);
    expect(r.stderr).toMatch(/unrecognized flag --no-rpa-bridge-unknown/);
  });
});
