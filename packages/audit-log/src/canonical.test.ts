import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalWithIdAndTime } from './canonical.js';
import { entryHash, GENESIS_HASH } from './chain.js';

describe('canonical JSON', () => {
  it('sorts keys at every level, drops undefined members, keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson({ 'é': 1, e: 2, Z: 3 })).toBe('{"Z":3,"e":2,"é":1}');
    expect(canonicalJson('a"b\n')).toBe('"a\\"b\\n"');
  });

  it('refuses what is not JSON data', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson({ d: new Date() })).toThrow(/plain objects/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson(1n)).toThrow(/bigint/);
  });

  it('the id-and-time template gives the same bytes as encoding the whole entry', () => {
    const fields = { actor: 'user:1', action: 'read', resource: 'doc', details: { z: [1, 'two'], a: { id: 'x' } }, ip: undefined, userAgent: 'curl' };
    const template = canonicalWithIdAndTime(fields);
    for (const [id, time] of [['1-0', 1], ['1702301234567-12', 1702301234567]] as const) {
      expect(template(id, time)).toBe(canonicalJson({ ...fields, id, time }));
    }
  });
});

describe('entry hash', () => {
  it('depends on the log, the seq, the previous hash and the entry', () => {
    const base = entryHash('audit', 1, GENESIS_HASH, '{}');
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(entryHash('other', 1, GENESIS_HASH, '{}')).not.toBe(base);
    expect(entryHash('audit', 2, GENESIS_HASH, '{}')).not.toBe(base);
    expect(entryHash('audit', 1, 'f'.repeat(64), '{}')).not.toBe(base);
    expect(entryHash('audit', 1, GENESIS_HASH, '{"a":1}')).not.toBe(base);
    // the parts are delimited: moving a digit from the seq into the name changes the hash
    expect(entryHash('audit1', 1, GENESIS_HASH, '{}')).not.toBe(entryHash('audit', 11, GENESIS_HASH, '{}'));
  });
});
