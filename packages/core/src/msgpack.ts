/**
 * The smallest MessagePack encoder streamkit needs: arrays (nested) of strings, sent as one
 * argument to a server-side script, where `cmsgpack.unpack` reads it. One argument instead of
 * thousands is what makes a batch cheap to send.
 */
export type Packable = string | Buffer | readonly Packable[];

function headerSize(length: number, fix: number, small: number): number {
  return length <= fix ? 1 : length <= 0xff && small ? 2 : length <= 0xffff ? 3 : 5;
}

function measure(value: Packable): number {
  if (typeof value === 'string') {
    const length = Buffer.byteLength(value);
    return headerSize(length, 31, 1) + length;
  }
  if (Buffer.isBuffer(value)) return headerSize(value.length, -1, 1) + value.length;
  let size = headerSize(value.length, 15, 0);
  for (const item of value) size += measure(item);
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

function write(buffer: Buffer, offset: number, value: Packable): number {
  if (typeof value === 'string') {
    const length = Buffer.byteLength(value);
    offset = writeLength(buffer, offset, length, 31, 0xa0, 0xd9, 0xda, 0xdb);
    return offset + buffer.write(value, offset, length, 'utf8');
  }
  if (Buffer.isBuffer(value)) {
    offset = writeLength(buffer, offset, value.length, -1, 0, 0xc4, 0xc5, 0xc6);
    return offset + value.copy(buffer, offset);
  }
  offset = writeLength(buffer, offset, value.length, 15, 0x90, 0, 0xdc, 0xdd);
  for (const item of value) offset = write(buffer, offset, item);
  return offset;
}

/** Encodes nested arrays of strings and Buffers as MessagePack. */
export function pack(value: Packable): Buffer {
  const buffer = Buffer.allocUnsafe(measure(value));
  const end = write(buffer, 0, value);
  return end === buffer.length ? buffer : buffer.subarray(0, end);
}
