import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { hashTag, hashedPart, keySlot, taggedKey } from './keys.js';

describe('hashTag / taggedKey', () => {
  it('wraps a value in braces', () => {
    expect(hashTag('order-1')).toBe('{order-1}');
    expect(taggedKey('orders', 'events')).toBe('{orders}:events');
    expect(taggedKey('orders', 'a', 'b')).toBe('{orders}:a:b');
    expect(taggedKey('orders')).toBe('{orders}');
  });

  it.each(['', '{a', 'a}', 'a{b}c'])('refuses %j with a ConfigError', (bad) => {
    expect(() => hashTag(bad)).toThrow(ConfigError);
    try {
      taggedKey(bad, 'x');
    } catch (error) {
      expect(ConfigError.is(error)).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(bad));
      return;
    }
    throw new Error('expected a ConfigError');
  });
});

describe('hashedPart', () => {
  it('follows the Redis Cluster rules', () => {
    expect(hashedPart('foo')).toBe('foo');
    expect(hashedPart('{user1000}.following')).toBe('user1000');
    expect(hashedPart('foo{bar}{zap}')).toBe('bar');
    expect(hashedPart('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashedPart('foo{{bar}}zap')).toBe('{bar');
    expect(hashedPart('foo{bar')).toBe('foo{bar');
    expect(hashedPart('}foo{bar}')).toBe('bar');
  });
});

describe('keySlot', () => {
  it('matches slots Redis reports', () => {
    // CLUSTER KEYSLOT answers, also checked against a live cluster in keys.int.test.ts.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('hello')).toBe(866);
    expect(keySlot('')).toBe(0);
  });

  it('puts keys with one hash tag in one slot', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot(taggedKey('orders', 'events'))).toBe(keySlot(taggedKey('orders', 'snapshots')));
    expect(keySlot('app:' + taggedKey('orders', 'events'))).toBe(keySlot('orders'));
  });

  it('hashes UTF-8 bytes and stays in range', () => {
    for (const key of ['ü', '日本', '🚀', 'a'.repeat(1000)]) {
      const slot = keySlot(key);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(slot).toBeLessThan(16384);
    }
    expect(keySlot('ü')).not.toBe(keySlot('u'));
  });
});
