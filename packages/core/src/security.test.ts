import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApiKeyVerifier, presentedKeys } from './api-key.js';
import { createFieldCipher, parseEncryptionKey } from './crypto.js';
import { clientAddress, isAllowed, parseCidr } from './ip-allowlist.js';
import { createSignatureVerifier, decodeSignature, decodeSignatureByPattern, signBody } from './signature.js';

const cidrs = (...s: string[]) =>
  s.map(
    (x) =>
      parseCidr(x) ??
      (() => {
        throw new Error(x);
      })(),
  );

describe('ip allowlist', () => {
  it('matches IPv4, IPv6 and IPv4-mapped peers', () => {
    const allow = cidrs('10.0.0.0/8', '2001:db8::/32');
    expect(isAllowed('10.2.3.4', undefined, allow, [])).toBe(true);
    expect(isAllowed('::ffff:10.2.3.4', undefined, allow, [])).toBe(true);
    expect(isAllowed('2001:db8::1', undefined, allow, [])).toBe(true);
    expect(isAllowed('11.0.0.1', undefined, allow, [])).toBe(false);
    expect(isAllowed('anything', undefined, [], [])).toBe(true);
  });

  it('believes X-Forwarded-For only from trusted proxies, from the right', () => {
    const proxies = cidrs('192.168.0.0/16');
    expect(clientAddress('203.0.113.5', '10.0.0.1', proxies)).toBe('203.0.113.5');
    expect(clientAddress('192.168.1.1', '10.0.0.1, 198.51.100.7, 192.168.1.2', proxies)).toBe('198.51.100.7');
    expect(clientAddress('192.168.1.1', 'garbage', proxies)).toBeUndefined();
  });
});

describe('api keys', () => {
  it('reads X-API-Key, Bearer and both Basic forms', () => {
    expect(presentedKeys({ apiKey: 'a' })).toEqual(['a']);
    expect(presentedKeys({ authorization: 'Bearer b' })).toEqual(['b']);
    expect(presentedKeys({ authorization: `Basic ${Buffer.from('u:c').toString('base64')}` })).toEqual(['c']);
    expect(presentedKeys({ authorization: `Basic ${Buffer.from('d:').toString('base64')}` })).toEqual(['d']);
    const verify = createApiKeyVerifier(['k1', 'k2']);
    expect(verify({ apiKey: 'k2' })).toBe(true);
    expect(verify({ apiKey: 'k3' })).toBe(false);
    expect(verify({})).toBe(false);
  });
});

describe('signatures', () => {
  it('verifies hex and base64 over raw bytes with several secrets', () => {
    const verify = createSignatureVerifier(['s1', 's2']);
    const body = Buffer.from('{"a": 1}');
    expect(verify(body, { genesys: signBody('s2', body) })).toBe(true);
    expect(verify(body, { hub: signBody('s1', body, 'base64') })).toBe(true);
    expect(verify(body, { genesys: signBody('s1', body, 'base64') })).toBe(false); // X-Genesys-Signature is hex only
    expect(verify(Buffer.from('{"a":1}'), { genesys: signBody('s1', body) })).toBe(false);
    expect(verify(body, { genesys: 'sha256=zz' })).toBe(false);
  });
});

describe('signature header decoding', () => {
  it('agrees with the regular-expression path on near-valid headers', () => {
    const hex = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
    const other = fc.constantFrom(...'gxz =+/-_\u00e9'.split(''));
    const hex64 = fc.array(hex, { minLength: 64, maxLength: 64 });
    const body = fc.oneof(
      hex64.map((a) => a.join('')),
      // one character that is not hex, anywhere
      fc.tuple(hex64, fc.nat(63), other).map(([a, i, c]) => a.map((x, j) => (j === i ? c : x)).join('')),
      fc.array(fc.oneof(hex, other), { minLength: 42, maxLength: 66 }).map((a) => a.join('')),
    );
    const header = fc.tuple(
      fc.constantFrom('sha256=', 'sha256=', 'SHA256=', ' sha256=', 'sha1=', 'sha256'),
      body,
      fc.constantFrom('', '', ' ', '='),
    );
    fc.assert(
      fc.property(header, fc.boolean(), ([head, body, tail], b64) => {
        const h = head + body + tail;
        expect(decodeSignature(h, b64)).toEqual(decodeSignatureByPattern(h, b64));
      }),
      { numRuns: 20_000 },
    );
    const valid = signBody('s', 'x');
    expect(decodeSignature(valid, false)).toEqual(decodeSignatureByPattern(valid, false));
    expect(decodeSignature(valid, false)).toHaveLength(32);
    expect(decodeSignature(`${valid.slice(0, 70)}g`, false)).toBeUndefined();
  });
});

describe('field encryption', () => {
  it('round-trips, rotates keys and detects tampering', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(32, 2);
    const old = createFieldCipher([k1]);
    const sealed = old.encrypt({ note: 'x' });
    const rotated = createFieldCipher([k2, k1]);
    expect(rotated.decrypt(sealed)).toEqual({ note: 'x' });
    expect(rotated.encrypt('y').split(':')[2]).not.toBe(sealed.split(':')[2]);
    expect(() => createFieldCipher([k2]).decrypt(sealed)).toThrow(/no active key/);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => old.decrypt(parts.join(':'))).toThrow(/authentication/);
    expect(parseEncryptionKey(k1.toString('base64'))).toEqual(k1);
    expect(parseEncryptionKey('c2hvcnQ=')).toBeUndefined();
  });
});
