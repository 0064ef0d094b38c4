import { StreamkitError } from '@streamkit/core';

/**
 * A sample older than the series' last one, refused because the series' `outOfOrder` policy is
 * `'reject'`. Nothing of the batch was written.
 *
 * @example
 * ```ts
 * try { await cpu.add(1, { timestamp: 1000 }); }
 * catch (error) { if (OutOfOrderError.is(error)) console.log(error.timestamp, error.lastTimestamp); }
 * ```
 */
export class OutOfOrderError extends StreamkitError {
  /** The series' name. */
  readonly series: string;
  /** The position of the sample in the batch (0 for `add`). */
  readonly index: number;
  /** The refused sample's time. */
  readonly timestamp: number;
  /** The time it had to be at or after. */
  readonly lastTimestamp: number;

  constructor(options: { series: string; index: number; timestamp: number; lastTimestamp: number }) {
    super(
      'OUT_OF_ORDER',
      `time series "${options.series}" sample #${options.index}: timestamp ${options.timestamp} is older than ${options.lastTimestamp}, ` +
        `the series' last timestamp (outOfOrder is 'reject'; use 'drop' or 'clamp' to accept late samples); nothing was written`,
    );
    this.series = options.series;
    this.index = options.index;
    this.timestamp = options.timestamp;
    this.lastTimestamp = options.lastTimestamp;
  }

  static override is(value: unknown): value is OutOfOrderError {
    return StreamkitError.is(value) && value.code === 'OUT_OF_ORDER';
  }
}
