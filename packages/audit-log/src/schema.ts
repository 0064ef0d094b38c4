import { z } from 'zod';

/** What a caller records: who did what to which resource, and how it went. */
export const recordInputSchema = z.strictObject({
  /** Who acted: a user or service id, e.g. `user:123`. */
  actor: z.string().min(1).max(256),
  /** What they did, e.g. `document.update`. */
  action: z.string().min(1).max(128),
  /** What they did it to, e.g. `document:456`. */
  resource: z.string().min(1).max(512),
  /** How it went; default `success`. */
  outcome: z.string().min(1).max(64).optional(),
  /** Where from: an IPv4 or IPv6 address. */
  ip: z.union([z.ipv4(), z.ipv6()]).optional(),
  userAgent: z.string().max(1024).optional(),
  requestId: z.string().min(1).max(256).optional(),
  /** Anything else, as JSON data. */
  details: z.record(z.string(), z.json()).optional(),
});

/** The input of {@link AuditLog.record}. */
export type RecordInput = z.input<typeof recordInputSchema>;

/** JSON data, as `details` holds it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The value a PII field reads as once its subject was forgotten. */
export const ERASED = '[erased]';

/** Who did what to which resource, from where: the fields an entry shares with its stored form. */
export interface AuditFields {
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
}

/** One entry of the log, decoded (PII decrypted, or {@link ERASED} when its subject was forgotten). */
export interface AuditEntry extends AuditFields {
  /** The stream id; its time part is when the entry was recorded. */
  id: string;
  /** Position in the chain, from 1. */
  seq: number;
  /** This entry's hash (hex SHA-256). */
  hash: string;
  /** The previous entry's hash. */
  prev: string;
  time: Date;
  /** The details; a PII `details.<key>` reads as {@link ERASED} once erased (and so does the whole field when `details` itself is PII). */
  details?: Record<string, JsonValue>;
  /** The PII fields that read as {@link ERASED}. */
  erased?: string[];
}

/** What {@link AuditLog.record} returns. */
export interface RecordResult {
  id: string;
  seq: number;
  hash: string;
}

/** The fields of the canonical entry as stored (PII fields may be ciphertext strings). */
export interface StoredEntry extends AuditFields {
  id: string;
  time: number;
  details?: Record<string, JsonValue>;
  /** The pseudonymous reference of the PII subject, when PII fields are encrypted. */
  subject?: string;
}
