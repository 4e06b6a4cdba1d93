import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InteractionEvent } from './event.js';
import { findRoute, loadRoutesFile, mapInputs, parseRoutes } from './routes.js';

const event = (over: Partial<InteractionEvent> = {}): InteractionEvent => ({
  eventType: 'interaction.completed',
  timestamp: '2023-10-27T14:30:00.000Z',
  contactId: 'c1',
  interactionId: 'i1',
  correlationId: 'x',
  metadata: { taskType: 'account_update', priority: 40 },
  ...over,
});

const route = (extra: object) => ({
  name: 'r',
  target: { kind: 'job', processKey: 'P', folderId: 1 },
  ...extra,
});

describe('routes file', () => {
  it('names the file, the path in it and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.yaml');
    writeFileSync(
      file,
      'routes:\n  - name: a\n    target: { kind: job, folderPath: X }\n  - name: a\n    target: { kind: queue, queueName: Q, folderPath: X, folderId: 3 }\n',
    );
    expect(() => loadRoutesFile(file)).toThrow(`${file}: routes[0].target.processKey: is required`);
    expect(() => loadRoutesFile(file)).toThrow(
      `${file}: routes[1].target: needs exactly one of folderPath, folderId or folderKey`,
    );
    writeFileSync(
      file,
      'routes:\n  - { name: a, target: { kind: job, processKey: P, folderId: 1 } }\n  - { name: a, target: { kind: job, processKey: P, folderId: 1 } }\n',
    );
    expect(() => loadRoutesFile(file)).toThrow(`${file}: routes[1].name: is a duplicate route name`);
    expect(() => loadRoutesFile(join(dir, 'missing.yaml'))).toThrow(
      /cannot read routes file .*missing\.yaml \(ENOENT\)/,
    );
    writeFileSync(file, 'routes: [');
    expect(() => loadRoutesFile(file)).toThrow(/cannot parse routes file/);
  });

  it('reads JSON files as well as YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const file = join(dir, 'routes.json');
    writeFileSync(file, JSON.stringify({ routes: [route({ inputs: { A: 'contactId' } })] }));
    expect(loadRoutesFile(file)[0]?.inputs).toEqual([{ name: 'A', from: 'contactId', sensitive: false }]);
  });

  it('refuses prototype paths and unknown keys', () => {
    expect(() => parseRoutes({ routes: [route({ match: { '__proto__.x': 'y' } })] }, 'f')).toThrow(/__proto__/);
    expect(() => parseRoutes({ routes: [route({ inputs: { A: 'metadata.constructor' } })] }, 'f')).toThrow(
      /constructor/,
    );
    expect(() => parseRoutes({ routes: [route({ secret: 'x' })] }, 'f')).toThrow(/routes\[0\]/);
  });

  it('matches exact strings and lists, first route wins', () => {
    const routes = parseRoutes(
      {
        routes: [
          route({ name: 'first', match: { eventType: ['a', 'interaction.completed'], 'metadata.priority': '40' } }),
          route({ name: 'second', match: {} }),
        ],
      },
      'f',
    );
    expect(findRoute(routes, event())?.name).toBe('first');
    expect(findRoute(routes, event({ eventType: 'b' }))?.name).toBe('second');
    expect(findRoute(routes.slice(0, 1), event({ metadata: {} }))).toBeUndefined();
  });

  it('maps inputs with defaults, splits sensitive ones, and fails on missing paths', () => {
    const [r] = parseRoutes(
      {
        routes: [
          route({
            inputs: {
              ContactId: 'contactId',
              Note: { from: 'metadata.note', sensitive: true },
              Tier: { from: 'metadata.tier', default: 'standard' },
            },
          }),
        ],
      },
      'f',
    );
    if (!r) throw new Error('no route');
    expect(mapInputs(r, event({ metadata: { note: 'n' } }))).toEqual({
      plain: { ContactId: 'c1', Tier: 'standard' },
      sensitive: { Note: 'n' },
    });
    expect(() => mapInputs(r, event())).toThrow(/lacks fields/);
  });
});
