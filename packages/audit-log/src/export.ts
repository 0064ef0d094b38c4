import type { AuditEntry } from './schema.js';

/** The columns of a CSV export, in order. */
export const CSV_COLUMNS = ['id', 'seq', 'time', 'actor', 'action', 'resource', 'outcome', 'ip', 'userAgent', 'requestId', 'details', 'hash', 'prev'] as const;

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row of an entry, with CRLF. */
export function toCsvRow(entry: AuditEntry): string {
  const values: unknown[] = [
    entry.id,
    entry.seq,
    entry.time.toISOString(),
    entry.actor,
    entry.action,
    entry.resource,
    entry.outcome,
    entry.ip,
    entry.userAgent,
    entry.requestId,
    entry.details === undefined ? undefined : JSON.stringify(entry.details),
    entry.hash,
    entry.prev,
  ];
  return `${values.map(csvField).join(',')}\r\n`;
}
