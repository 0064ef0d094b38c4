import { StreamkitError } from '@streamkit/core';

/** What `appendToStream` expects the stream's version to be. See {@link AppendOptions.expectedVersion}. */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

const describeVersion = (version: ExpectedVersion | number): string =>
  version === -1 ? 'no stream' : typeof version === 'number' ? `version ${version}` : version.replace('_', ' ');

/**
 * The stream's version was not the one the caller expected: another writer appended first (or the
 * stream does / does not exist). Nothing was written. Reload the aggregate and decide again, or use
 * {@link CommandHandler}, which does that for you.
 *
 * `actual` is the version of the stream's last event, `-1` when the stream does not exist.
 */
export class ConcurrencyError extends StreamkitError {
  readonly streamName: string;
  readonly expected: ExpectedVersion;
  readonly actual: number;

  constructor(options: { streamName: string; expected: ExpectedVersion; actual: number }) {
    super(
      'CONCURRENCY',
      `stream "${options.streamName}": expected ${describeVersion(options.expected)}, found ${describeVersion(options.actual)}; nothing was written (reload and retry)`,
    );
    this.streamName = options.streamName;
    this.expected = options.expected;
    this.actual = options.actual;
  }

  /** Structural guard, safe across ESM and CJS copies. */
  static override is(value: unknown): value is ConcurrencyError {
    return StreamkitError.is(value) && value.code === 'CONCURRENCY';
  }
}
