const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of the values: ▁ for the smallest, █ for the largest. */
export function sparkline(values: readonly number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return values
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      const i = max === min ? 3 : Math.round(((v - min) / (max - min)) * (BARS.length - 1));
      return BARS[i]!;
    })
    .join('');
}
