import { createHash } from 'node:crypto';

/** The `previous hash` of the first entry: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The domain tag every entry hash starts with, so an entry hash is never valid as anything else. */
export const ENTRY_DOMAIN = 'streamkit.audit-log.entry.v1';

/**
 * `SHA-256(domain tag ‖ seq ‖ previous hash ‖ canonical entry)`, hex. Each part is followed by a
 * NUL byte, and the log name is part of the domain tag, so an entry cannot be moved to another log.
 */
export function entryHash(log: string, seq: number, previous: string, canonicalEntry: string): string {
  return createHash('sha256').update(`${ENTRY_DOMAIN}\0${log}\0${seq}\0${previous}\0`).update(canonicalEntry).digest('hex');
}

/** SHA-256 of a string, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
