import { ConfigError } from '@streamkit/core';

/** One parsed matcher of a label filter. */
export type Matcher =
  | { label: string; op: 'eq'; values: string[] }
  | { label: string; op: 'ne'; values: string[] }
  | { label: string; op: 'absent' }
  | { label: string; op: 'present' };

/** A label filter: one expression or a list, all of which must match. */
export type LabelFilter = string | readonly string[];

const LABEL = /^[^\s=!,(){}]+$/;
const VALUE = /^[^,(){}]+$/;

/** Checks a label name. */
export function checkLabelName(label: string, where: string): void {
  if (typeof label !== 'string' || !LABEL.test(label)) {
    throw new ConfigError(`${where}: label name ${JSON.stringify(label)} must be non-empty, without whitespace or any of = ! , ( ) { }`);
  }
}

/** Checks a label value (an empty value would mean "absent" in a filter). */
export function checkLabelValue(label: string, value: unknown, where: string): void {
  if (typeof value !== 'string' || !VALUE.test(value) || value.trim() !== value) {
    throw new ConfigError(
      `${where}: label "${label}" value ${JSON.stringify(value)} must be a non-empty string without leading/trailing spaces or any of , ( ) { }`,
    );
  }
}

/** Splits a filter string on whitespace outside parentheses. */
function splitExpressions(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (/\s/.test(ch) && depth === 0) {
      if (current) out.push(current);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}

/**
 * Parses RedisTimeSeries' filter grammar: `l=v`, `l!=v`, `l=(a,b)`, `l!=(a,b)`, `l=` (label
 * absent), `l!=` (label present). A string may hold several expressions separated by spaces;
 * every expression must match.
 */
export function parseFilter(filter: LabelFilter): Matcher[] {
  const list = typeof filter === 'string' ? splitExpressions(filter) : [...filter].flatMap((f) => splitExpressions(String(f)));
  if (list.length === 0) throw new ConfigError('label filter: give at least one expression, e.g. "host=a"');
  return list.map((expression) => {
    const match = /^([^=!]+)(!?=)(.*)$/.exec(expression);
    if (!match) throw new ConfigError(`label filter ${JSON.stringify(expression)}: expected l=v, l!=v, l=(a,b), l!=(a,b), l= or l!=`);
    const [, label, operator, rest] = match as unknown as [string, string, string, string];
    checkLabelName(label, `label filter ${JSON.stringify(expression)}`);
    const negated = operator === '!=';
    if (rest === '') return negated ? { label, op: 'present' } : { label, op: 'absent' };
    let values: string[];
    if (rest.startsWith('(')) {
      if (!rest.endsWith(')')) throw new ConfigError(`label filter ${JSON.stringify(expression)}: a list must be closed with ")"`);
      values = rest
        .slice(1, -1)
        .split(',')
        .map((v) => v.trim());
      if (values.some((v) => v === '')) throw new ConfigError(`label filter ${JSON.stringify(expression)}: empty value in the list`);
    } else values = [rest];
    for (const v of values) checkLabelValue(label, v, `label filter ${JSON.stringify(expression)}`);
    return { label, op: negated ? 'ne' : 'eq', values };
  });
}

/** True when a label set matches every matcher (the same rule the index applies). */
export function matches(labels: Readonly<Record<string, string>>, matchers: readonly Matcher[]): boolean {
  return matchers.every((m) => {
    const value = labels[m.label];
    switch (m.op) {
      case 'eq':
        return value !== undefined && m.values.includes(value);
      case 'ne':
        return value === undefined || !m.values.includes(value);
      case 'absent':
        return value === undefined;
      case 'present':
        return value !== undefined;
    }
  });
}
