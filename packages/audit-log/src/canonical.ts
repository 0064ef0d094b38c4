/**
 * Canonical JSON: the one byte string an entry hashes to. Object keys are sorted (by UTF-16 code
 * units, as `Array.prototype.sort` does), `undefined` members are left out, no whitespace.
 * Numbers must be finite; anything that is not plain JSON data is refused.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (depth > 64) throw new TypeError('canonical JSON: nested deeper than 64 levels');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => write(item === undefined ? null : item, depth + 1)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON: only plain objects, arrays and primitives');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key], depth + 1)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: a ${typeof value} is not JSON data`);
  }
}

/**
 * The canonical JSON of `{ ...fields, id, time }` for many `id`/`time` pairs, without encoding
 * `fields` again each time: a writer that loses a compare-and-set race re-hashes its records
 * on top of the new head, and only the id and time change.
 */
export function canonicalWithIdAndTime(fields: Record<string, unknown>): (id: string, time: number) => string {
  const keys = [...Object.keys(fields).filter((key) => fields[key] !== undefined && key !== 'id' && key !== 'time'), 'id', 'time'].sort();
  const parts = keys.map((key) => (key === 'id' || key === 'time' ? '' : `${JSON.stringify(key)}:${write(fields[key], 1)}`));
  const idAt = keys.indexOf('id');
  const timeAt = keys.indexOf('time');
  return (id, time) => {
    if (!Number.isFinite(time)) throw new TypeError(`canonical JSON: ${time} is not a finite number`);
    parts[idAt] = `"id":${JSON.stringify(id)}`;
    parts[timeAt] = `"time":${JSON.stringify(time)}`;
    return `{${parts.join(',')}}`;
  };
}
