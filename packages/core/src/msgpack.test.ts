import { describe, expect, it } from 'vitest';
import { pack, type Packable } from './msgpack.js';

/** A MessagePack decoder for the types pack() writes (str, bin, array), written from the spec. */
function unpack(buffer: Buffer): unknown {
  let offset = 0;
  const take = (n: number) => {
    if (offset + n > buffer.length) throw new Error(`truncated at ${offset}`);
    const slice = buffer.subarray(offset, offset + n);
    offset += n;
    return slice;
  };
  const read = (): unknown => {
    const tag = take(1)[0]!;
    const str = (n: number) => take(n).toString('utf8');
    const arr = (n: number) => Array.from({ length: n }, read);
    if (tag >= 0xa0 && tag <= 0xbf) return str(tag & 0x1f);
    if (tag >= 0x90 && tag <= 0x9f) return arr(tag & 0x0f);
    switch (tag) {
      case 0xd9:
        return str(take(1).readUInt8());
      case 0xda:
        return str(take(2).readUInt16BE());
      case 0xdb:
        return str(take(4).readUInt32BE());
      case 0xc4:
        return Buffer.from(take(take(1).readUInt8()));
      case 0xc5:
        return Buffer.from(take(take(2).readUInt16BE()));
      case 0xc6:
        return Buffer.from(take(take(4).readUInt32BE()));
      case 0xdc:
        return arr(take(2).readUInt16BE());
      case 0xdd:
        return arr(take(4).readUInt32BE());
      default:
        throw new Error(`unexpected tag 0x${tag.toString(16)} at ${offset - 1}`);
    }
  };
  const value = read();
  if (offset !== buffer.length) throw new Error(`${buffer.length - offset} trailing bytes`);
  return value;
}

describe('pack', () => {
  it('writes the known bytes of small values', () => {
    expect(pack('')).toEqual(Buffer.from([0xa0]));
    expect(pack('abc')).toEqual(Buffer.from([0xa3, 0x61, 0x62, 0x63]));
    expect(pack([])).toEqual(Buffer.from([0x90]));
    expect(pack(['a', ['b']])).toEqual(Buffer.from([0x92, 0xa1, 0x61, 0x91, 0xa1, 0x62]));
    expect(pack(Buffer.from([1, 2]))).toEqual(Buffer.from([0xc4, 0x02, 0x01, 0x02]));
    expect(pack('é')).toEqual(Buffer.from([0xa2, 0xc3, 0xa9]));
  });

  it('picks the header at each size boundary', () => {
    const header = (value: Packable) => pack(value).subarray(0, 5);
    expect(header('x'.repeat(31))[0]).toBe(0xbf);
    expect([...header('x'.repeat(32)).subarray(0, 2)]).toEqual([0xd9, 32]);
    expect([...header('x'.repeat(255)).subarray(0, 2)]).toEqual([0xd9, 255]);
    expect([...header('x'.repeat(256)).subarray(0, 3)]).toEqual([0xda, 0x01, 0x00]);
    expect([...header('x'.repeat(65535)).subarray(0, 3)]).toEqual([0xda, 0xff, 0xff]);
    expect([...header('x'.repeat(65536)).subarray(0, 5)]).toEqual([0xdb, 0x00, 0x01, 0x00, 0x00]);
    // a multi-byte string's header counts bytes, not characters: 20 × 'é' is 40 bytes
    expect([...header('é'.repeat(20)).subarray(0, 2)]).toEqual([0xd9, 40]);
    expect(header(Array(15).fill('a'))[0]).toBe(0x9f);
    expect([...header(Array(16).fill('a')).subarray(0, 3)]).toEqual([0xdc, 0x00, 0x10]);
    expect([...header(Array(65536).fill('')).subarray(0, 5)]).toEqual([0xdd, 0x00, 0x01, 0x00, 0x00]);
    expect([...header(Buffer.alloc(256)).subarray(0, 3)]).toEqual([0xc5, 0x01, 0x00]);
    expect([...header(Buffer.alloc(65536)).subarray(0, 5)]).toEqual([0xc6, 0x00, 0x01, 0x00, 0x00]);
  });

  it('round-trips nested batches of mixed strings', () => {
    const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'ünïcødé', '日本語のテキスト', '🚀 emoji', 'a'.repeat(63) + 'é', 'y'.repeat(70_000), '1702301234567-0', '\u0000nul'];
    const batch: Packable = Array.from({ length: 300 }, (_, i) => ['*', 'field', strings[i % strings.length]!, 'n', String(i)]);
    expect(unpack(pack(batch))).toEqual(batch);
    const withBuffers: Packable = [Buffer.from('bytes'), ['x', Buffer.alloc(300, 7)], []];
    expect(unpack(pack(withBuffers))).toEqual(withBuffers);
  });

  it('writes lone surrogates as the UTF-8 replacement character, like Buffer does', () => {
    expect(unpack(pack('a\ud800b'))).toBe(Buffer.from('a\ud800b').toString('utf8'));
  });
});
