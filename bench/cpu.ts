/**
 * CPU time per process, read from /proc (Linux), so the bench can say where a
 * request's CPU goes: the server, Redis (with its AOF-rewrite children) and
 * the load generator. On a machine the three share, the ratio in (a) moves
 * with each of them, not only with the server. Elsewhere: undefined.
 */
import { existsSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat's times; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds a process used: its own and, with `children`, that of its reaped children. */
export function processCpuMs(pid: number | undefined, children = false): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const ticks = (f[11] ?? 0) + (f[12] ?? 0) + (children ? (f[13] ?? 0) + (f[14] ?? 0) : 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** This process's CPU milliseconds (user + system). */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
