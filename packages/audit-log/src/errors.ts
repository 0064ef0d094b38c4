import { StreamkitError } from '@streamkit/core';

/** Pruning or erasure refused because the log is under legal hold. Nothing was changed. */
export class LegalHoldError extends StreamkitError {
  readonly log: string;
  readonly operation: string;

  constructor(log: string, operation: string) {
    super('LEGAL_HOLD', `audit log "${log}": ${operation} refused, the log is under legal hold (setLegalHold(false) lifts it)`);
    this.log = log;
    this.operation = operation;
  }

  static override is(value: unknown): value is LegalHoldError {
    return StreamkitError.is(value) && value.code === 'LEGAL_HOLD';
  }
}

/**
 * The log stream holds an entry after the chain head that the append script did not write
 * (someone wrote to the log key directly). Appending stops until the log is checked.
 */
export class ChainHeadError extends StreamkitError {
  readonly log: string;

  constructor(log: string, detail: string) {
    super('CHAIN_HEAD', `audit log "${log}": ${detail}; run verify() to see what happened`);
    this.log = log;
  }

  static override is(value: unknown): value is ChainHeadError {
    return StreamkitError.is(value) && value.code === 'CHAIN_HEAD';
  }
}

/** A record could not be appended after many compare-and-set conflicts in a row. */
export class AppendConflictError extends StreamkitError {
  readonly log: string;
  readonly attempts: number;

  constructor(log: string, attempts: number) {
    super('CONCURRENCY', `audit log "${log}": gave up after ${attempts} compare-and-set conflicts on the chain head`);
    this.log = log;
    this.attempts = attempts;
  }

  static override is(value: unknown): value is AppendConflictError {
    return StreamkitError.is(value) && value.code === 'CONCURRENCY';
  }
}
