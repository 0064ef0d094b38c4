/**
 * The smallest MessagePack encoder streamkit needs: arrays (nested) of strings, sent as one
 * argument to a server-side script, where `cmsgpack.unpack` reads it. One argument instead of
 * thousands is what makes a batch cheap to send.
 */
export type Packable = string | Buffer | readonly Packable[];

/** Strings up to this length are copied character by character when they are ASCII: cheaper than a call into Buffer for each. */
const SHORT = 64;

/** An upper bound of the encoded size: at most 3 UTF-8 bytes per UTF-16 unit, 5 bytes per header. */
function bound(value: Packable): number {
  if (typeof value === 'string') return 5 + value.length * 3;
  if (Buffer.isBuffer(value)) return 5 + value.length;
  let size = 5;
  for (let i = 0; i < value.length; i++) size += bound(value[i]!);
  return size;
}

function writeLength(buffer: Buffer, offset: number, length: number, fix: number, fixTag: number, tag8: number, tag16: number, tag32: number): number {
  if (length <= fix) {
    buffer[offset] = fixTag | length;
    return offset + 1;
  }
  if (length <= 0xff && tag8) {
    buffer[offset] = tag8;
    buffer[offset + 1] = length;
    return offset + 2;
  }
  if (length <= 0xffff) {
    buffer[offset] = tag16;
    buffer.writeUInt16BE(length, offset + 1);
    return offset + 3;
  }
  buffer[offset] = tag32;
  buffer.writeUInt32BE(length, offset + 1);
  return offset + 5;
}

function writeString(buffer: Buffer, offset: number, value: string): number {
  const n = value.length;
  if (n <= SHORT) {
    // Optimistically ASCII (field names, ids, numbers): copy after the header it would need.
    const start = offset + (n <= 31 ? 1 : 2);
    let i = 0;
    for (; i < n; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) break;
      buffer[start + i] = code;
    }
    if (i === n) {
      writeLength(buffer, offset, n, 31, 0xa0, 0xd9, 0xda, 0xdb);
      return start + n;
    }
  }
  const length = Buffer.byteLength(value, 'utf8');
  offset = writeLength(buffer, offset, length, 31, 0xa0, 0xd9, 0xda, 0xdb);
  return offset + buffer.write(value, offset, length, 'utf8');
}

function write(buffer: Buffer, offset: number, value: Packable): number {
  if (typeof value === 'string') return writeString(buffer, offset, value);
  if (Buffer.isBuffer(value)) {
    offset = writeLength(buffer, offset, value.length, -1, 0, 0xc4, 0xc5, 0xc6);
    return offset + value.copy(buffer, offset);
  }
  offset = writeLength(buffer, offset, value.length, 15, 0x90, 0, 0xdc, 0xdd);
  for (let i = 0; i < value.length; i++) offset = write(buffer, offset, value[i]!);
  return offset;
}

/** Encodes nested arrays of strings and Buffers as MessagePack. */
export function pack(value: Packable): Buffer {
  const buffer = Buffer.allocUnsafe(bound(value));
  return buffer.subarray(0, write(buffer, 0, value));
}
