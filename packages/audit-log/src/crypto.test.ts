import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@streamkit/core';
import { describe, expect, it } from 'vitest';
import { checkpointDigest, checkSignature, resolveSigner, resolveVerifyKeys, signCheckpoint } from './checkpoint.js';
import { decryptValue, encryptValue, isEncrypted, newSubjectKey, parseSubjectKey, subjectRef } from './pii.js';
import { ERASED } from './schema.js';

describe('checkpoint signatures', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = resolveSigner({ keyId: 'k1', privateKey }, 'audit')!;
  const body = { log: 'audit', kind: 'checkpoint' as const, size: 3, head: 'a'.repeat(64), headId: '1-2', time: '2024-01-01T00:00:00.000Z', previous: null };

  it('verifies with the public key and fails on any change', () => {
    const checkpoint = signCheckpoint(body, signer);
    const keys = resolveVerifyKeys(undefined, signer, 'audit');
    expect(checkSignature(checkpoint, keys)).toBe(true);
    for (const change of [{ size: 4 }, { head: 'b'.repeat(64) }, { headId: '1-3' }, { previous: 'c' }, { log: 'other' }, { kind: 'prune' as const }]) {
      expect(checkSignature({ ...checkpoint, ...change }, keys)).toBe(false);
    }
    expect(checkSignature(checkpoint, new Map())).toBe(false);
    const other = resolveSigner({ keyId: 'k1', privateKey: generateKeyPairSync('ed25519').privateKey }, 'audit')!;
    expect(checkSignature(signCheckpoint(body, other), keys)).toBe(false);
    expect(checkpointDigest(checkpoint)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts PEM keys and refuses keys that are not Ed25519', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const fromPem = resolveSigner({ keyId: 'k1', privateKey: pem }, 'audit')!;
    expect(checkSignature(signCheckpoint(body, fromPem), resolveVerifyKeys(undefined, signer, 'audit'))).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => resolveSigner({ keyId: 'k1', privateKey: rsa }, 'audit')).toThrow(ConfigError);
    expect(() => resolveSigner({ keyId: '', privateKey }, 'audit')).toThrow(ConfigError);
  });
});

describe('PII encryption', () => {
  it('round-trips any JSON value, and reads as erased without the right key', () => {
    const key = parseSubjectKey(newSubjectKey().stored)!;
    const ref = subjectRef('audit', 'user:1');
    const sealed = encryptValue('audit', ref, 'ip', '10.0.0.1', key);
    expect(isEncrypted(sealed)).toBe(true);
    expect(sealed).not.toContain('10.0.0.1');
    expect(decryptValue('audit', ref, 'ip', sealed, key)).toBe('10.0.0.1');
    expect(decryptValue('audit', ref, 'details', encryptValue('audit', ref, 'details', { a: [1, null] }, key), key)).toEqual({ a: [1, null] });
    expect(decryptValue('audit', ref, 'ip', sealed, undefined)).toBe(ERASED);
    expect(decryptValue('audit', ref, 'ip', sealed, parseSubjectKey(newSubjectKey().stored))).toBe(ERASED);
    // bound to its log, subject and field
    expect(decryptValue('audit', ref, 'userAgent', sealed, key)).toBe(ERASED);
    expect(decryptValue('other', ref, 'ip', sealed, key)).toBe(ERASED);
    expect(subjectRef('audit', 'user:1')).not.toBe(subjectRef('audit', 'user:2'));
  });
});
