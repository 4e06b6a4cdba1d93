import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createSecretSource, loadSecretSourceConfig } from '@rpa-bridge/core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startFakeSecretsManager, startFakeVault } from '../support/fake-secret-stores.js';
import { ENCRYPTION_KEY, flatEvent, post, writeTestRoutesFile } from '../support/receiver.js';
import { freePort } from '../support/redis-server.js';
import { eventually } from '../support/worker.js';

const ROOT = join(import.meta.dirname, '../..');

describe('secret providers', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('Vault KV v2: the receiver loads its keys at start and picks up a rotation without a restart', async () => {
    const vault = await startFakeVault({
      token: 'vault-token',
      mount: 'secret',
      path: 'rpa-bridge',
      values: { WEBHOOK_API_KEYS: 'key-before', ENCRYPTION_KEY, ADMIN_TOKEN: 'adm-1' },
    });
    cleanup.push(() => vault.close());
    const routesFile = writeTestRoutesFile();
    const port = await freePort();
    const child: ChildProcess = spawn('node', ['--conditions=source', '--import', 'tsx', 'apps/receiver/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: `{t-secrets-${port}}`,
        ROUTES_FILE: routesFile,
        SECRETS_PROVIDER: 'vault',
        VAULT_ADDR: vault.url,
        VAULT_TOKEN: 'vault-token',
        VAULT_SECRET_PATH: 'rpa-bridge',
        SECRETS_REFRESH_SECONDS: '200ms',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    cleanup.push(async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      'receiver up',
    );
    expect((await post(url, flatEvent(), { 'x-api-key': 'key-before' })).status).toBe(202);
    expect((await post(url, flatEvent(), { 'x-api-key': 'key-after' })).status).toBe(401);

    vault.values = { WEBHOOK_API_KEYS: 'key-after', ENCRYPTION_KEY, ADMIN_TOKEN: 'adm-2' };
    await eventually(
      async () => (await post(url, flatEvent(), { 'x-api-key': 'key-after' })).status === 202,
      10_000,
      'rotated key accepted',
    );
    expect((await post(url, flatEvent(), { 'x-api-key': 'key-before' })).status).toBe(401);
    expect((await fetch(`${url}/v1/transactions/x`, { headers: { authorization: 'Bearer adm-1' } })).status).toBe(401);
    expect((await fetch(`${url}/v1/transactions/x`, { headers: { authorization: 'Bearer adm-2' } })).status).toBe(404);
    expect(vault.reads).toBeGreaterThanOrEqual(2); // the start-up read and the poll that saw the rotation
  });

  it('AWS Secrets Manager through the AWS SDK: a JSON secret becomes variables', async () => {
    const sm = await startFakeSecretsManager({
      secretId: 'prod/rpa-bridge',
      values: { UIPATH_CLIENT_SECRET: 's3cr3t', WEBHOOK_HMAC_SECRETS: 'h1,h2' },
    });
    cleanup.push(() => sm.close());
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'test-secret-key' });
    cleanup.push(() => {
      process.env = saved;
    });
    const config = loadSecretSourceConfig({
      SECRETS_PROVIDER: 'aws',
      AWS_SECRET_ID: 'prod/rpa-bridge',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: sm.url,
    });
    const source = createSecretSource(config);
    expect(source?.name).toBe('aws:prod/rpa-bridge');
    expect(await source?.load()).toEqual({ UIPATH_CLIENT_SECRET: 's3cr3t', WEBHOOK_HMAC_SECRETS: 'h1,h2' });
    sm.values = { UIPATH_CLIENT_SECRET: 'rotated' };
    expect(await source?.load()).toEqual({ UIPATH_CLIENT_SECRET: 'rotated' });
    await expect(createSecretSource({ ...config, secretId: 'nope' } as typeof config)?.load()).rejects.toThrow(
      /can't find/,
    );
  });

  it('a provider without its variables stops start-up with a clear message', () => {
    expect(() => loadSecretSourceConfig({ SECRETS_PROVIDER: 'vault' })).toThrow(
      /VAULT_ADDR: is required[\s\S]*VAULT_TOKEN: is required[\s\S]*VAULT_SECRET_PATH/,
    );
    expect(() => loadSecretSourceConfig({ SECRETS_PROVIDER: 'gcp' })).toThrow(
      /SECRETS_PROVIDER: must be one of env, vault, aws/,
    );
  });
});
