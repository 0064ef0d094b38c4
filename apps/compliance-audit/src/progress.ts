/** Where a progress bar is drawn: a writable with an optional TTY flag. */
export interface ProgressTarget {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * A one-line progress bar (`[#####.....]  50%  5000/10000 verify`), redrawn in place with `\r`.
 * It draws only when `enabled` (the CLI turns it on for large logs or with `--progress`), at
 * most every 100 ms, and ends with a newline.
 */
export class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(
    private readonly target: ProgressTarget,
    private readonly label: string,
    private readonly enabled: boolean,
    private readonly width = 30,
  ) {}

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.last < 100) return;
    this.last = now;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * this.width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${done}/${total} ${this.label}`;
    this.target.write(`\r${bar}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.target.write('\n');
    this.drawn = false;
  }
}
