import { hashTag } from '@streamkit/core';

/**
 * Every key of one log, under one hash tag so a script can touch them together on a cluster:
 * `<prefix>{audit:<name>}:<part>`.
 */
export interface LogKeys {
  /** The tag: `{audit:<name>}`. */
  readonly tag: string;
  /** The log stream (one entry per record). */
  readonly log: string;
  /** Hash: `seq`, `hash`, `id` of the newest entry (the chain head the append script compares). */
  readonly head: string;
  /** Set of every index stream key, for verification and pruning. */
  readonly indexes: string;
  /** Stream of signed checkpoints. */
  readonly checkpoints: string;
  /** Hash: subject -> `<keyId>:<base64 AES key>` for PII encryption. */
  readonly subjects: string;
  /** Hash: `legalHold`. */
  readonly meta: string;
  /** The index stream of one actor. */
  actor(actor: string): string;
  /** The index stream of one resource. */
  resource(resource: string): string;
}

/** The key layout of a log called `name`, under the client's `prefix`. */
export function logKeys(prefix: string, name: string): LogKeys {
  const base = `${prefix}${hashTag(`audit:${name}`)}`;
  return {
    tag: hashTag(`audit:${name}`),
    log: `${base}:log`,
    head: `${base}:head`,
    indexes: `${base}:indexes`,
    checkpoints: `${base}:checkpoints`,
    subjects: `${base}:subjects`,
    meta: `${base}:meta`,
    actor: (actor) => `${base}:actor:${actor}`,
    resource: (resource) => `${base}:resource:${resource}`,
  };
}
