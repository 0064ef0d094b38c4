import { ConfigError, taggedKey, type StreamClient } from '@streamkit/core';

/** The Redis keys of one series; all share the hash tag `{ts:<name>}`, so one script reaches them on a cluster. */
export interface SeriesKeys {
  raw: string;
  meta: string;
  /** One stream per rollup level, by bucket size. */
  level(bucketMs: number): string;
}

const NAME = /^[^{}\s]+$/;

/** Checks a series name: non-empty, no braces (they would break the hash tag), no whitespace. */
export function checkSeriesName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigError(`time series name ${JSON.stringify(name)}: must be a non-empty string without "{", "}" or whitespace`);
  }
  return name;
}

/** The keys of series `name` under the client's prefix. */
export function seriesKeys(client: StreamClient, name: string): SeriesKeys {
  const tag = `ts:${name}`;
  return {
    raw: client.key(taggedKey(tag, 'raw')),
    meta: client.key(taggedKey(tag, 'meta')),
    level: (bucketMs) => client.key(taggedKey(tag, `r${bucketMs}`)),
  };
}

/** The keys of the label index (one hash tag for the whole index). */
export interface IndexKeys {
  /** Every series name. */
  all: string;
  /** Series that have label `label` (any value). */
  has(label: string): string;
  /** Series whose label `label` is `value`. */
  eq(label: string, value: string): string;
}

/** The label index keys under the client's prefix. */
export function indexKeys(client: StreamClient): IndexKeys {
  const tag = 'ts-index';
  return {
    all: client.key(taggedKey(tag, 'all')),
    has: (label) => client.key(taggedKey(tag, 'has', label)),
    eq: (label, value) => client.key(taggedKey(tag, 'eq', `${label}=${value}`)),
  };
}
