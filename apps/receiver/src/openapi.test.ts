import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventBridgePayload, flatEventPayload } from '@rpa-bridge/core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { flatEvent, startTestReceiver, type TestReceiver } from '../../../test/support/receiver.js';

const SAMPLES = join(import.meta.dirname, '../../../test/fixtures/genesys');

describe('GET /openapi.json', () => {
  let t: TestReceiver;
  beforeAll(async () => {
    t = await startTestReceiver({ redisUrl: inject('redisUrl') });
  });
  afterAll(() => t.close());

  it('documents every public and admin endpoint, generated from the zod schemas', async () => {
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/admin/queues',
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/dead-letters/redrive',
        '/v1/events',
        '/v1/transactions/{correlationId}',
        '/webhooks/genesys',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/v1/events']?.post?.responses ?? {}).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '403',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
    expect(doc.components.schemas.FlatEvent?.required?.sort()).toEqual([
      'contactId',
      'eventType',
      'interactionId',
      'timestamp',
    ]);
    expect(doc.components.schemas.RedriveRequest?.properties).toHaveProperty('dryRun');
  });

  it('the schemas it is generated from accept the real payloads', () => {
    expect(flatEventPayload.safeParse(flatEvent()).success).toBe(true);
    for (const f of readdirSync(SAMPLES).filter((n) => n.startsWith('eventbridge-') && !n.includes('audit'))) {
      expect(eventBridgePayload.safeParse(JSON.parse(readFileSync(join(SAMPLES, f), 'utf8'))).success, f).toBe(true);
    }
  });
});
