import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReceiverConfig } from './config.js';
import { BridgeError } from './errors.js';

const base = { ROUTES_FILE: 'routes.yaml', WEBHOOK_API_KEYS: 'k' };

function configError(env: Record<string, string>): BridgeError {
  try {
    loadReceiverConfig(env);
  } catch (err) {
    if (err instanceof BridgeError) return err;
    throw err;
  }
  throw new Error('expected a config error');
}

describe('loadReceiverConfig', () => {
  it('takes documented defaults for unset optional variables', () => {
    const c = loadReceiverConfig(base);
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      maxBodyBytes: 65536,
      dedupeTtlMs: 86_400_000,
      jobAttempts: 8,
      redis: { url: 'redis://127.0.0.1:6379', prefix: '{rpa-bridge}' },
    });
    expect(c.auth.maxEventAgeMs).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuses to start with no webhook authentication unless INSECURE_NO_AUTH=true', () => {
    const err = configError({ ROUTES_FILE: 'r.yaml' });
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain('WEBHOOK_API_KEYS');
    expect(loadReceiverConfig({ ROUTES_FILE: 'r.yaml', INSECURE_NO_AUTH: 'true' }).auth.insecureNoAuth).toBe(true);
    // an IP allowlist alone is not enough
    expect(() => loadReceiverConfig({ ROUTES_FILE: 'r.yaml', ALLOWED_IPS: '10.0.0.0/8' })).toThrow(/WEBHOOK_API_KEYS/);
  });

  it('lists every malformed variable at once, without echoing values', () => {
    const err = configError({
      ...base,
      PORT: 'eighty',
      MAX_BODY_BYTES: '-1',
      DEDUPE_TTL: 'forever',
      ALLOWED_IPS: '10.0.0.0/8,not-an-ip',
      LOG_LEVEL: 'loud',
      INSECURE_NO_AUTH: 'maybe',
      ENCRYPTION_KEY: 'c2hvcnQ=',
    });
    const paths = err.issues?.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'PORT',
        'MAX_BODY_BYTES',
        'DEDUPE_TTL',
        'ALLOWED_IPS',
        'LOG_LEVEL',
        'INSECURE_NO_AUTH',
        'ENCRYPTION_KEY',
      ]),
    );
    expect(err.message).not.toContain('not-an-ip');
    expect(err.message).not.toContain('c2hvcnQ=');
  });

  it('parses durations with units and lists with spaces', () => {
    const c = loadReceiverConfig({ ...base, DEDUPE_TTL: '2h', MAX_EVENT_AGE: '300', WEBHOOK_API_KEYS: ' a , b ,' });
    expect(c.dedupeTtlMs).toBe(7_200_000);
    expect(c.auth.maxEventAgeMs).toBe(300_000);
    expect(c.auth.apiKeys).toEqual(['a', 'b']);
  });

  it('reads every secret from NAME_FILE too, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'keys'), 'file-key-1,file-key-2\n');
    writeFileSync(join(dir, 'hmac'), 'file-secret\n');
    writeFileSync(join(dir, 'admin'), 'file-admin\n');
    const c = loadReceiverConfig({
      ROUTES_FILE: 'r.yaml',
      WEBHOOK_API_KEYS_FILE: join(dir, 'keys'),
      WEBHOOK_HMAC_SECRETS_FILE: join(dir, 'hmac'),
      ADMIN_TOKEN_FILE: join(dir, 'admin'),
    });
    expect(c.auth.apiKeys).toEqual(['file-key-1', 'file-key-2']);
    expect(c.auth.hmacSecrets).toEqual(['file-secret']);
    expect(c.admin.token).toBe('file-admin');
    expect(configError({ ...base, ADMIN_TOKEN: 'x', ADMIN_TOKEN_FILE: join(dir, 'admin') }).message).toContain(
      'either ADMIN_TOKEN or ADMIN_TOKEN_FILE',
    );
    expect(configError({ ...base, ADMIN_TOKEN_FILE: join(dir, 'missing') }).message).toContain(
      'ADMIN_TOKEN_FILE: cannot read',
    );
  });
});
