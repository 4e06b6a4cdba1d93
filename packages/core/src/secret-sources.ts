import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import NodeVault from 'node-vault';
import type { Logger } from 'pino';
import { type Env, EnvReader, type ReadFile } from './env.js';

/**
 * Secrets from a secret manager instead of the environment: one secret whose
 * keys are the variable names (`WEBHOOK_API_KEYS`, `ENCRYPTION_KEY`,
 * `UIPATH_CLIENT_SECRET`, …). Loaded before the config is parsed and polled
 * afterwards, so a rotation reaches the running process without a restart.
 */
export interface SecretSource {
  readonly name: string;
  load(): Promise<Record<string, string>>;
}

export type SecretSourceConfig =
  | { provider: 'env' }
  | { provider: 'vault'; endpoint: string; token: string; mount: string; path: string; refreshMs: number }
  | { provider: 'aws'; region: string | undefined; secretId: string; endpoint: string | undefined; refreshMs: number };

/** `SECRETS_PROVIDER` = env (default) | vault | aws, and that provider's variables. */
export function loadSecretSourceConfig(env: Env, readFile?: ReadFile): SecretSourceConfig {
  const r = new EnvReader(env, readFile);
  const provider = r.oneOf('SECRETS_PROVIDER', ['env', 'vault', 'aws'] as const, 'env');
  const refreshMs = r.duration('SECRETS_REFRESH_SECONDS', 's', 300_000);
  let config: SecretSourceConfig = { provider: 'env' };
  if (provider === 'vault') {
    const endpoint = r.string('VAULT_ADDR');
    const token = r.secret('VAULT_TOKEN');
    const path = r.string('VAULT_SECRET_PATH');
    r.require(endpoint !== undefined, 'VAULT_ADDR', 'is required with SECRETS_PROVIDER=vault');
    r.require(token !== undefined, 'VAULT_TOKEN', 'is required with SECRETS_PROVIDER=vault');
    r.require(
      path !== undefined,
      'VAULT_SECRET_PATH',
      'is required with SECRETS_PROVIDER=vault (the KV v2 secret, e.g. rpa-bridge)',
    );
    config = {
      provider,
      endpoint: endpoint ?? '',
      token: token ?? '',
      mount: r.string('VAULT_KV_MOUNT') ?? 'secret',
      path: path ?? '',
      refreshMs,
    };
  } else if (provider === 'aws') {
    const secretId = r.string('AWS_SECRET_ID');
    r.require(secretId !== undefined, 'AWS_SECRET_ID', 'is required with SECRETS_PROVIDER=aws (a JSON secret)');
    config = {
      provider,
      region: r.string('AWS_REGION'),
      secretId: secretId ?? '',
      endpoint: r.string('AWS_ENDPOINT_URL'),
      refreshMs,
    };
  }
  r.done();
  return config;
}

const strings = (o: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries((o ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );

/** HashiCorp Vault KV v2 through node-vault: `GET /v1/{mount}/data/{path}`. */
export function createVaultSource(c: Extract<SecretSourceConfig, { provider: 'vault' }>): SecretSource {
  const client = NodeVault({ apiVersion: 'v1', endpoint: c.endpoint, token: c.token });
  return {
    name: `vault:${c.mount}/${c.path}`,
    async load() {
      const res = (await client.read(`${c.mount}/data/${c.path}`)) as { data?: { data?: unknown } };
      return strings(res.data?.data);
    },
  };
}

/** AWS Secrets Manager through the AWS SDK v3 (default credential chain): a JSON SecretString. */
export function createAwsSource(c: Extract<SecretSourceConfig, { provider: 'aws' }>): SecretSource {
  const client = new SecretsManagerClient({
    ...(c.region ? { region: c.region } : {}),
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
  });
  return {
    name: `aws:${c.secretId}`,
    async load() {
      const res = await client.send(new GetSecretValueCommand({ SecretId: c.secretId }));
      return strings(JSON.parse(res.SecretString ?? '{}'));
    },
  };
}

export function createSecretSource(c: SecretSourceConfig): SecretSource | undefined {
  if (c.provider === 'vault') return createVaultSource(c);
  if (c.provider === 'aws') return createAwsSource(c);
  return undefined;
}

/**
 * Polls the source and calls `onChange` when any value differs. Errors are
 * reported, never thrown: the process keeps its last good secrets.
 */
export function watchSecrets(
  source: SecretSource,
  intervalMs: number,
  initial: Record<string, string>,
  onChange: (values: Record<string, string>) => void | Promise<void>,
  onError: (err: Error) => void,
): () => void {
  let last = JSON.stringify(initial);
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const values = await source.load();
      const text = JSON.stringify(values);
      if (text !== last) {
        last = text;
        await onChange(values);
      }
    } catch (err) {
      onError(err as Error);
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** What a process loaded from its secret manager at start (nothing with `SECRETS_PROVIDER=env`). */
export interface StartupSecrets {
  source: SecretSource | undefined;
  refreshMs: number;
  values: Record<string, string>;
}

/** Reads `SECRETS_PROVIDER` and its variables, and loads the secrets once. */
export async function loadStartupSecrets(env: Env): Promise<StartupSecrets> {
  const config = loadSecretSourceConfig(env);
  const source = createSecretSource(config);
  return {
    source,
    refreshMs: config.provider === 'env' ? 0 : config.refreshMs,
    values: source ? await source.load() : {},
  };
}

/**
 * Applies rotated secrets without a restart: `apply` gets the new values and
 * throws if they are unusable, in which case the previous ones stay. Returns
 * the stop function (a no-op without a secret manager).
 */
export function watchSecretRotations(
  secrets: StartupSecrets,
  logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  apply: (values: Record<string, string>) => void,
): () => void {
  const { source } = secrets;
  if (!source) return () => {};
  logger.info({ source: source.name }, 'secrets loaded from the secret manager');
  return watchSecrets(
    source,
    secrets.refreshMs,
    secrets.values,
    (values) => {
      try {
        apply(values);
        logger.info({ source: source.name }, 'secrets rotated');
      } catch (err) {
        logger.error(
          { err: { message: (err as Error).message } },
          'rotated secrets are invalid; keeping the previous ones',
        );
      }
    },
    (err) =>
      logger.warn(
        { source: source.name, err: { message: err.message } },
        'secret refresh failed; keeping the previous secrets',
      ),
  );
}
