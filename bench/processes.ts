import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/** The image's NODE_OPTIONS (V8 heap tuning), so the bench runs every server as production runs the receiver. */
export function imageNodeOptions(): string {
  const env = /^ENV .*\bNODE_OPTIONS=(\S+)/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  if (!env) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return env[1] as string;
}

/**
 * Starts an entry point as its own process (own event loop, as in production):
 * a compiled `dist/*.js` as the image runs it (its NODE_OPTIONS too), or a `.ts` source through tsx.
 */
export function startProcess(file: string, env: Record<string, string | undefined>): Proc {
  const compiled = !file.endsWith('.ts');
  const args = compiled ? [file] : ['--conditions=source', '--import', 'tsx', file];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...(compiled ? { NODE_OPTIONS: imageNodeOptions() } : {}), ...env },
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
