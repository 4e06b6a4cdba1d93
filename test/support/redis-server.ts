import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse } from 'yaml';

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  /** The running redis-server's process id (it changes across a restart). */
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, or SIGKILL when `hard`), keeping its data directory. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/**
 * The arguments `docker-compose.yml` gives its redis-server (AOF, `noeviction`, encodings),
 * so tests and the bench run Redis as production does, from one place.
 */
export function composeRedisArgs(): string[] {
  const compose = parse(readFileSync(join(import.meta.dirname, '../../docker-compose.yml'), 'utf8')) as {
    services: { redis: { command: string[] } };
  };
  const [bin, ...args] = compose.services.redis.command;
  if (bin !== 'redis-server') throw new Error('docker-compose.yml: the redis command does not start redis-server');
  return args;
}

/** Starts a real redis-server on loopback with compose's settings (AOF on, `noeviction`, …). */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  if (!hasRedisServer()) {
    throw new Error('redis-server is not installed: apt-get install -y redis-server (or set REDIS_URL)');
  }
  let p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'rpa-redis-'));
  let child: ChildProcess | undefined;
  /** Resolves once this child answers on `p`; false when it exited first (the port was taken meanwhile). */
  const launch = async (): Promise<boolean> => {
    const c = spawn(
      'redis-server',
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        ...composeRedisArgs(),
        // No RDB snapshots: a snapshot's fork in the middle of a test or bench run only adds noise; AOF
        // is what durability rests on. (Later arguments win, so this holds whatever compose says.)
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    child = c;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) return false;
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${p}`);
      const probe = new Redis(p, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // Another test's server may hold the port (free ports are picked, then bound, by parallel tests).
        const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
        if (pid === c.pid) return true;
      } catch {
        // not listening yet
      } finally {
        probe.disconnect();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** A restart keeps its port (the tests hold its URL). */
  const start = async () => {
    if (!(await launch())) throw new Error(`redis-server could not listen on port ${p}`);
  };
  const stop = async (hard = false) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  // A port picked here may be taken by the time redis-server binds it: pick another.
  for (let attempt = 1; !(await launch()); attempt++) {
    if (port !== undefined || attempt === 5) throw new Error(`redis-server could not listen on port ${p}`);
    p = await freePort();
  }
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    async destroy() {
      await stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
