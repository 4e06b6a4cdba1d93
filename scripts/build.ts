/**
 * Compiles each workspace package's `src/` to `dist/` (one JS file per
 * module, tests left out), which is what production runs: `node
 * apps/receiver/dist/main.js`, with `@rpa-bridge/*` resolving to their
 * `dist/index.js` through the packages' `exports`.
 *
 * Why not run the sources through tsx in production: tsx compiles with
 * esbuild's `keepNames`, which wraps every function it creates in a
 * `defineProperty` call; closures made per request (the body reader's
 * listeners, small helpers) pay for it on every request, and the receiver
 * measured ~7 % less CPU per request compiled (docs/benchmarks.md).
 * Types are checked by `pnpm typecheck`; this only strips them.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
/** Workspace packages, and the bench's own servers (compiled so they run like the receiver does). */
const TARGETS = [
  ...['packages', 'apps'].flatMap((group) =>
    readdirSync(join(ROOT, group), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => ({ src: join(group, d.name, 'src'), out: join(group, d.name, 'dist') })),
  ),
  { src: 'bench/servers', out: 'bench/dist' },
];

const isModule = (name: string) => name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts');

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && isModule(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Builds every target; returns the output directories. */
export async function buildWorkspace(log: (line: string) => void = () => {}): Promise<string[]> {
  const outs: string[] = [];
  for (const { src, out } of TARGETS) {
    if (!existsSync(join(ROOT, src))) continue; // the image's build stage has no bench/
    const outdir = join(ROOT, out);
    rmSync(outdir, { recursive: true, force: true });
    const entryPoints = modulesUnder(join(ROOT, src));
    await build({
      entryPoints,
      outbase: join(ROOT, src),
      outdir,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
    log(`build: ${src} → ${out} (${entryPoints.length} modules)`);
    outs.push(out);
  }
  return outs;
}

if (process.argv[1] === import.meta.filename) await buildWorkspace((line) => process.stdout.write(`${line}\n`));
