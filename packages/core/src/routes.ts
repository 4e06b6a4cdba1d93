import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BridgeError, type Issue } from './errors.js';
import type { InteractionEvent } from './event.js';
import { getPath } from './paths.js';

const dotPath = z
  .string()
  .regex(/^[A-Za-z_$][\w$-]*(\.[\w$-]+)*$/, 'must be a dot path such as metadata.taskType')
  .refine((p) => !p.split('.').some((k) => k === '__proto__' || k === 'prototype' || k === 'constructor'), {
    message: 'must not name __proto__, prototype or constructor',
  });

const inputSpec = z.union([
  dotPath,
  z.strictObject({
    from: dotPath,
    sensitive: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  }),
]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const priority = z.enum(['Low', 'Normal', 'High']);
const folder = {
  folderPath: z.string().min(1).optional(),
  folderId: z.number().int().positive().optional(),
  folderKey: z.string().regex(GUID, 'must be a GUID').optional(),
};
const oneFolder = (t: {
  folderPath?: string | undefined;
  folderId?: number | undefined;
  folderKey?: string | undefined;
}) => [t.folderPath, t.folderId, t.folderKey].filter((v) => v !== undefined).length === 1;
const folderMessage = { message: 'needs exactly one of folderPath, folderId or folderKey' };

const target = z.discriminatedUnion('kind', [
  z
    .strictObject({ kind: z.literal('job'), processKey: z.string().min(1), priority: priority.optional(), ...folder })
    .refine(oneFolder, folderMessage),
  z
    .strictObject({ kind: z.literal('queue'), queueName: z.string().min(1), priority: priority.optional(), ...folder })
    .refine(oneFolder, folderMessage),
]);

const matchValue = z.union([z.string(), z.array(z.string()).min(1)]);

const routeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'must be 1-63 letters, digits, - or _'),
  match: z.record(dotPath, matchValue).default({}),
  target,
  inputs: z.record(z.string().regex(/^[A-Za-z_][\w]*$/, 'must be an argument name'), inputSpec).default({}),
  concurrency: z.number().int().min(1).max(10_000).default(1),
});

const routesFileSchema = z
  .strictObject({ routes: z.array(routeSchema).min(1, 'needs at least one route') })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.routes.forEach((r, i) => {
      if (seen.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: 'is a duplicate route name' });
      seen.add(r.name);
    });
  });

export type RouteTarget = z.infer<typeof target>;

export interface InputMapping {
  name: string;
  from: string;
  sensitive: boolean;
  default?: string | number | boolean;
}

/** A validated route with its inputs normalised to one shape. */
export interface Route {
  name: string;
  match: Record<string, readonly string[]>;
  target: RouteTarget;
  inputs: InputMapping[];
  concurrency: number;
}

export const hasSensitiveInputs = (routes: readonly Route[]): boolean =>
  routes.some((r) => r.inputs.some((i) => i.sensitive));

/** `routes[0].target.processKey` from a zod path. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`),
    '',
  );

/** Validates parsed routes; `file` only labels the messages. */
export function parseRoutes(doc: unknown, file: string): Route[] {
  const parsed = routesFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issues: Issue[] = parsed.error.issues.map((i) => ({
      path: formatPath(i.path) || '(root)',
      message: i.code === 'invalid_type' && i.message.endsWith('received undefined') ? 'is required' : i.message,
    }));
    const lines = issues.map((i) => `  ${file}: ${i.path}: ${i.message}`).join('\n');
    throw new BridgeError('routes_invalid', `invalid routes file ${file}:\n${lines}`, { issues });
  }
  return parsed.data.routes.map((r) => ({
    name: r.name,
    match: Object.fromEntries(Object.entries(r.match).map(([k, v]) => [k, typeof v === 'string' ? [v] : v])),
    target: r.target,
    concurrency: r.concurrency,
    inputs: Object.entries(r.inputs).map(([name, spec]) => {
      if (typeof spec === 'string') return { name, from: spec, sensitive: false };
      const m: InputMapping = { name, from: spec.from, sensitive: spec.sensitive ?? false };
      if (spec.default !== undefined) m.default = spec.default;
      return m;
    }),
  }));
}

/** Reads a YAML or JSON routes file (chosen by extension; YAML also parses JSON). */
export function loadRoutesFile(file: string, read: (p: string) => string = (p) => readFileSync(p, 'utf8')): Route[] {
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new BridgeError('routes_invalid', `cannot read routes file ${file} (${code})`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new BridgeError('routes_invalid', `cannot parse routes file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseRoutes(doc, file);
}

function matches(route: Route, event: InteractionEvent): boolean {
  for (const [path, allowed] of Object.entries(route.match)) {
    const v = getPath(event, path);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
    if (!allowed.includes(String(v))) return false;
  }
  return true;
}

/** First matching route wins. */
export const findRoute = (routes: readonly Route[], event: InteractionEvent): Route | undefined =>
  routes.find((r) => matches(r, event));

export interface MappedInputs {
  plain: Record<string, unknown>;
  sensitive: Record<string, unknown>;
}

/**
 * Builds the route's allowlisted inputs from the event. A mapped path that is
 * missing (and has no default) is an ingest-time `invalid_payload`.
 */
export function mapInputs(route: Route, event: InteractionEvent): MappedInputs {
  const out: MappedInputs = { plain: {}, sensitive: {} };
  const issues: Issue[] = [];
  for (const input of route.inputs) {
    let value = getPath(event, input.from);
    if (value === undefined || value === null) value = input.default;
    if (value === undefined) {
      issues.push({ path: input.from, message: `is required by route ${route.name} (input ${input.name})` });
      continue;
    }
    (input.sensitive ? out.sensitive : out.plain)[input.name] = value;
  }
  if (issues.length > 0) {
    throw new BridgeError('invalid_payload', 'the event lacks fields its route maps', { issues });
  }
  return out;
}
