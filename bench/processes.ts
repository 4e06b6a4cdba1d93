import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');

export interface Proc {
  child: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A bench that fails half-way must not leave its servers behind (they would also hold its output pipe open).
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts an entry point as its own process (own event loop, as in production):
 * a compiled `dist/*.js` as production runs it, or a `.ts` source through tsx.
 */
export function startProcess(file: string, env: Record<string, string | undefined>): Proc {
  const args = file.endsWith('.ts') ? ['--conditions=source', '--import', 'tsx', file] : [file];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function waitForHttp(url: string, ms = 30_000, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
