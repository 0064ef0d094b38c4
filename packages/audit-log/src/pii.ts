import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '@streamkit/core';
import { sha256 } from './chain.js';
import { ERASED, type JsonValue, type RecordInput } from './schema.js';

/** A field that may hold personal data: a top-level field, the whole `details`, or one `details.<key>`. */
export type PiiField = 'ip' | 'userAgent' | 'requestId' | 'details' | `details.${string}`;

/**
 * Which fields are personal data, and whose. Each subject gets its own AES-256-GCM key, kept in
 * Redis; {@link AuditLog.forgetSubject} deletes it, and the fields then read as {@link ERASED}.
 */
export interface PiiOptions {
  /** The fields to encrypt. */
  fields: readonly PiiField[];
  /** Whose data a record holds; default: the actor. */
  subject?: (record: RecordInput) => string;
}

/** A subject key as stored: `<keyId>:<base64 key>`. */
export interface SubjectKey {
  keyId: string;
  key: Buffer;
}

const PREFIX = 'enc:v1:';

/** Checks the options once, at creation. */
export function checkPiiOptions(pii: PiiOptions | undefined, log: string): void {
  if (pii === undefined) return;
  if (!pii || !Array.isArray(pii.fields)) throw new ConfigError(`audit log "${log}": pii.fields must be an array of field names`);
  for (const field of pii.fields) {
    if (!['ip', 'userAgent', 'requestId', 'details'].includes(field) && !(typeof field === 'string' && /^details\.[^.]+$/.test(field))) {
      throw new ConfigError(`audit log "${log}": pii field "${String(field)}" must be ip, userAgent, requestId, details or details.<key>`);
    }
  }
  if (pii.subject !== undefined && typeof pii.subject !== 'function') throw new ConfigError(`audit log "${log}": pii.subject must be a function`);
}

/** The pseudonymous reference of a subject: the subject itself never reaches the log. */
export function subjectRef(log: string, subject: string): string {
  return sha256(`streamkit.audit-log.subject.v1\0${log}\0${subject}`).slice(0, 32);
}

export function parseSubjectKey(stored: string | null | undefined): SubjectKey | undefined {
  if (!stored) return undefined;
  const colon = stored.indexOf(':');
  if (colon < 1) return undefined;
  return { keyId: stored.slice(0, colon), key: Buffer.from(stored.slice(colon + 1), 'base64') };
}

export function newSubjectKey(): { keyId: string; stored: string } {
  const keyId = randomBytes(6).toString('hex');
  return { keyId, stored: `${keyId}:${randomBytes(32).toString('base64')}` };
}

function aad(log: string, ref: string, field: string): Buffer {
  return Buffer.from(`${log}\0${ref}\0${field}`);
}

/** Encrypts one value (any JSON) for a subject. */
export function encryptValue(log: string, ref: string, field: string, value: JsonValue, key: SubjectKey): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(aad(log, ref, field));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${PREFIX}${key.keyId}:${iv.toString('base64url')}.${data.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

/** True for a value {@link encryptValue} made. */
export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** Decrypts a value; {@link ERASED} when the key is gone or is not the one it was encrypted with. */
export function decryptValue(log: string, ref: string, field: string, value: string, key: SubjectKey | undefined): JsonValue | typeof ERASED {
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  const keyId = rest.slice(0, colon);
  if (!key || key.keyId !== keyId) return ERASED;
  const [iv, data, tag] = rest.slice(colon + 1).split('.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv ?? '', 'base64url'));
    decipher.setAAD(aad(log, ref, field));
    decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data ?? '', 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(text) as JsonValue;
  } catch {
    return ERASED;
  }
}
