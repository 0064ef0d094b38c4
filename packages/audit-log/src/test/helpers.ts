import { generateKeyPairSync } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { createStreamClient, type StreamClient } from '@streamkit/core';
import { createAuditLog, type AuditLog, type AuditLogOptions } from '../index.js';

/** A fresh Ed25519 signer. */
export function makeSigner(keyId = 'k1') {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signer: { keyId, privateKey }, publicKey };
}

export function makeLog(redis: Redis | Cluster, prefix: string, options: Partial<AuditLogOptions> = {}): { log: AuditLog; client: StreamClient } {
  const client = createStreamClient({ redis, prefix });
  return { client, log: createAuditLog({ client, name: 'audit', ...options }) };
}

/**
 * Rewrites the log stream the way an attacker with write access would: reads every entry, lets
 * `mutate` change the list, then DEL and re-XADD with explicit ids, in one EVAL.
 */
export async function rewriteStream(
  redis: Redis | Cluster,
  key: string,
  mutate: (entries: [string, string[]][]) => [string, string[]][],
): Promise<void> {
  const entries = (await redis.call('XRANGE', key, '-', '+')) as [string, string[]][];
  const changed = mutate(entries.map(([id, fields]) => [id, [...fields]]));
  const script = `
    redis.call('DEL', KEYS[1])
    local entries = cjson.decode(ARGV[1])
    for i = 1, #entries do redis.call('XADD', KEYS[1], entries[i][1], unpack(entries[i][2])) end
    return #entries`;
  await redis.eval(script, 1, key, JSON.stringify(changed));
}

/** The fields of a flat field list. */
export function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** Sets one field of a flat field list. */
export function setField(flat: string[], name: string, value: string): string[] {
  const at = flat.indexOf(name);
  const copy = [...flat];
  if (at >= 0 && at % 2 === 0) copy[at + 1] = value;
  else copy.push(name, value);
  return copy;
}
