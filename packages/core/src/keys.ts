import { ConfigError } from './errors.js';

/**
 * Key helpers. On Redis Cluster, keys that one command or script touches together must share a
 * hash slot; Redis hashes only the part inside the first `{…}` of a key when there is one.
 */

/**
 * Wraps a value in a hash tag: `hashTag('order-1')` is `{order-1}`. An empty value or one with
 * braces is refused with a {@link ConfigError} (Redis would hash something else than you meant).
 */
export function hashTag(value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('{') || value.includes('}')) {
    throw new ConfigError(`hash tag ${JSON.stringify(value)}: must be non-empty and free of "{" and "}"`);
  }
  return `{${value}}`;
}

/**
 * Joins key parts under one hash tag so they land in one slot: `taggedKey('orders', 'events')` is
 * `{orders}:events`.
 */
export function taggedKey(tag: string, ...parts: string[]): string {
  return [hashTag(tag), ...parts].join(':');
}

/** The part of a key that Redis Cluster hashes: the first non-empty `{…}` section, else the whole key. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** The Redis Cluster slot (0…16383) of a key: CRC16-XMODEM of its hashed part, mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashedPart(key));
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}
