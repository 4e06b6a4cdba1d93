import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BridgeError } from './errors.js';

/**
 * AES-256-GCM for route inputs marked `sensitive`. Several keys may be active
 * (rotation): the first encrypts, any decrypts; each ciphertext names its
 * key by a short fingerprint so decryption never guesses.
 * Format: `enc:v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url parts).
 */
export interface FieldCipher {
  encrypt(value: unknown): string;
  decrypt(sealed: string): unknown;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('base64url').slice(0, 8);

/** Parses `ENCRYPTION_KEY` items: 32 bytes each, base64. */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const key = Buffer.from(text, 'base64');
  return key.length === 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? key : undefined;
}

export function createFieldCipher(keys: readonly Buffer[]): FieldCipher {
  const [primary] = keys;
  if (!primary) throw new Error('createFieldCipher needs at least one key');
  const byId = new Map(keys.map((k) => [keyId(k), k]));
  const primaryId = keyId(primary);
  return {
    encrypt(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary, iv);
      const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        'enc',
        'v1',
        primaryId,
        iv.toString('base64url'),
        ct.toString('base64url'),
        tag.toString('base64url'),
      ].join(':');
    },
    decrypt(sealed) {
      const parts = sealed.split(':');
      const key = byId.get(parts[2] ?? '');
      if (parts.length !== 6 || parts[0] !== 'enc' || parts[1] !== 'v1' || !key) {
        throw new BridgeError('decrypt_failed', 'no active key can open this value');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[3] as string, 'base64url'));
        decipher.setAuthTag(Buffer.from(parts[5] as string, 'base64url'));
        const pt = Buffer.concat([decipher.update(Buffer.from(parts[4] as string, 'base64url')), decipher.final()]);
        return JSON.parse(pt.toString('utf8'));
      } catch (cause) {
        throw new BridgeError('decrypt_failed', 'the value failed authentication', { cause });
      }
    },
  };
}
