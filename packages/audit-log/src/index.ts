/**
 * `@streamkit/audit-log`: a tamper-evident audit trail on Redis Streams. A SHA-256 hash chain
 * appended by one compare-and-set script, per-actor and per-resource index streams, signed
 * Ed25519 checkpoints, retention with signed prune checkpoints, legal hold and PII erasure.
 */
export { AuditLog, createAuditLog } from './auditLog.js';
export type { AuditLogOptions, ExportOptions, QueryOptions } from './auditLog.js';
export { ERASED, recordInputSchema } from './schema.js';
export type { AuditEntry, AuditFields, JsonValue, RecordInput, RecordResult, StoredEntry } from './schema.js';
export type { Checkpoint, Signer, VerifyKeys } from './checkpoint.js';
export type { PiiField, PiiOptions } from './pii.js';
export type { ProblemKind, VerifyOptions, VerifyProblem, VerifyResult } from './verify.js';
export type { ChainHead } from './writer.js';
export { AppendConflictError, ChainHeadError, LegalHoldError } from './errors.js';
export { canonicalJson } from './canonical.js';
export { entryHash, ENTRY_DOMAIN, GENESIS_HASH } from './chain.js';
export type { LogKeys } from './keys.js';
