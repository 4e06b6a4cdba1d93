import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-ins for the two secret managers, speaking their real wire
 * protocols over HTTP, so the real clients (node-vault, the AWS SDK) are what
 * the tests exercise: Vault KV v2 `GET /v1/{mount}/data/{path}` with
 * X-Vault-Token, and Secrets Manager's JSON protocol (`X-Amz-Target:
 * secretsmanager.GetSecretValue`).
 */
export interface FakeStore {
  url: string;
  values: Record<string, string>;
  reads: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startFakeVault(opts: {
  token: string;
  mount: string;
  path: string;
  values: Record<string, string>;
}): Promise<FakeStore> {
  let version = 1;
  const store: FakeStore = { url: '', values: opts.values, reads: 0, close: async () => {} };
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-vault-token'] !== opts.token) {
      res.statusCode = 403;
      res.end(JSON.stringify({ errors: ['permission denied'] }));
      return;
    }
    if (req.method !== 'GET' || req.url !== `/v1/${opts.mount}/data/${opts.path}`) {
      res.statusCode = 404;
      res.end(JSON.stringify({ errors: [] }));
      return;
    }
    store.reads++;
    res.end(
      JSON.stringify({
        request_id: 'r',
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data: store.values,
          metadata: { version: version++, created_time: new Date().toISOString(), deletion_time: '', destroyed: false },
        },
      }),
    );
  });
  store.url = await listen(server);
  store.close = () => new Promise((r) => server.close(() => r()));
  return store;
}

export async function startFakeSecretsManager(opts: {
  secretId: string;
  values: Record<string, string>;
}): Promise<FakeStore> {
  const store: FakeStore = { url: '', values: opts.values, reads: 0, close: async () => {} };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      if (
        req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' ||
        !String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256')
      ) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'InvalidRequestException', message: 'bad request' }));
        return;
      }
      if (SecretId !== opts.secretId) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          }),
        );
        return;
      }
      store.reads++;
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SecretId}`,
          Name: SecretId,
          SecretString: JSON.stringify(store.values),
          VersionId: `v${store.reads}`,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
        }),
      );
    });
  });
  store.url = await listen(server);
  store.close = () => new Promise((r) => server.close(() => r()));
  return store;
}
