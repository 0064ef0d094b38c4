import { createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ConfigError } from '@streamkit/core';
import { canonicalJson } from './canonical.js';
import { sha256 } from './chain.js';

/**
 * A signed statement "the log had `size` entries and its newest hash was `head`", like a
 * CloudTrail digest. Keep copies elsewhere: a checkpoint you hold is how {@link AuditLog.verify}
 * proves the log was not cut short (`trusted`).
 */
export interface Checkpoint {
  /** The log's name. */
  log: string;
  /** `checkpoint`, or `prune` for the one {@link AuditLog.prune} writes before removing entries. */
  kind: 'checkpoint' | 'prune';
  /** The seq of the newest entry covered (for a prune checkpoint: of the newest entry removed). */
  size: number;
  /** That entry's hash. */
  head: string;
  /** That entry's id. */
  headId: string;
  /** When the checkpoint was made, ISO-8601. */
  time: string;
  /** Which key signed it. */
  keyId: string;
  /** The digest of the checkpoint before it, or null for the first: checkpoints chain. */
  previous: string | null;
  /** Ed25519 signature, base64, over the domain tag and the canonical JSON of every other field. */
  signature: string;
}

/** The signing key: an Ed25519 private key (a `KeyObject` or PEM) and the id verifiers know it by. */
export interface Signer {
  keyId: string;
  privateKey: KeyObject | string;
}

/** Public keys by key id, to check checkpoint signatures. */
export type VerifyKeys = Record<string, KeyObject | string>;

export const CHECKPOINT_DOMAIN = 'streamkit.audit-log.checkpoint.v1';

export interface ResolvedSigner {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(`${what} must be an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  return key;
}

export function resolveSigner(signer: Signer | undefined, log: string): ResolvedSigner | undefined {
  if (signer === undefined) return undefined;
  if (!signer || typeof signer.keyId !== 'string' || signer.keyId.length === 0) {
    throw new ConfigError(`audit log "${log}": signer needs a non-empty keyId and an Ed25519 privateKey`);
  }
  const privateKey = ed25519(
    typeof signer.privateKey === 'string' ? createPrivateKey(signer.privateKey) : signer.privateKey,
    `audit log "${log}": signer.privateKey`,
  );
  if (privateKey.type !== 'private') throw new ConfigError(`audit log "${log}": signer.privateKey must be a private key`);
  return { keyId: signer.keyId, privateKey, publicKey: createPublicKey(privateKey) };
}

export function resolveVerifyKeys(keys: VerifyKeys | undefined, signer: ResolvedSigner | undefined, log: string): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  if (signer) out.set(signer.keyId, signer.publicKey);
  for (const [keyId, key] of Object.entries(keys ?? {})) {
    const object = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
    out.set(keyId, ed25519(object, `audit log "${log}": verifyKeys["${keyId}"]`));
  }
  return out;
}

function payload(checkpoint: Omit<Checkpoint, 'signature'>): Buffer {
  const { log, kind, size, head, headId, time, keyId, previous } = checkpoint;
  return Buffer.from(`${CHECKPOINT_DOMAIN}\0${canonicalJson({ log, kind, size, head, headId, time, keyId, previous })}`);
}

export function signCheckpoint(unsigned: Omit<Checkpoint, 'signature' | 'keyId'>, signer: ResolvedSigner): Checkpoint {
  const body = { ...unsigned, keyId: signer.keyId };
  return { ...body, signature: edSign(null, payload(body), signer.privateKey).toString('base64') };
}

/** True when the signature is valid for a key we know. */
export function checkSignature(checkpoint: Checkpoint, keys: Map<string, KeyObject>): boolean {
  const key = keys.get(checkpoint.keyId);
  if (!key || typeof checkpoint.signature !== 'string') return false;
  try {
    return edVerify(null, payload(checkpoint), key, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

/** The digest the next checkpoint's `previous` names. */
export function checkpointDigest(checkpoint: Checkpoint): string {
  return sha256(canonicalJson(checkpoint));
}

/** Parses a stored checkpoint; undefined when it is not one. */
export function parseCheckpoint(json: string | undefined): Checkpoint | undefined {
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as Checkpoint;
    if (typeof value !== 'object' || value === null || typeof value.size !== 'number' || typeof value.head !== 'string') return undefined;
    return value;
  } catch {
    return undefined;
  }
}
