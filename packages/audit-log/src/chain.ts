import * as crypto from 'node:crypto';

/** The `previous hash` of the first entry: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The domain tag every entry hash starts with, so an entry hash is never valid as anything else. */
export const ENTRY_DOMAIN = 'streamkit.audit-log.entry.v1';

// One-shot hashing (Node ≥ 20.12) is much cheaper than a Hash object per entry.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 of a string (UTF-8), hex. */
export function sha256(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/**
 * `SHA-256(domain tag ‖ seq ‖ previous hash ‖ canonical entry)`, hex. Each part but the last is
 * followed by a NUL byte, and the log name is part of the domain tag, so an entry cannot be moved
 * to another log.
 */
export function entryHash(log: string, seq: number, previous: string, canonicalEntry: string): string {
  return sha256(`${ENTRY_DOMAIN}\0${log}\0${seq}\0${previous}\0${canonicalEntry}`);
}
