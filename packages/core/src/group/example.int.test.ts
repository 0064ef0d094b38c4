import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisTargets } from '@streamkit/testing';
import { describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('./fixtures/twoWorkers.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const standalone = redisTargets().find((target) => target.name === 'standalone')!;

// The "two workers sharing a group" example of the README, run as a user would run it.
describe('the consumer-groups example', () => {
  it('bills every order across two workers and dead-letters the poison one', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@streamkit/source', '--import', 'tsx', example], {
      cwd: packageRoot,
      env: { ...process.env, REDIS_URL: standalone.url },
      timeout: 25_000,
    });
    const billed = /billed (\d+) orders: (\d+) by a, (\d+) by b/.exec(stdout);
    expect(billed, stdout).not.toBeNull();
    expect(Number(billed![1])).toBe(19);
    expect(Number(billed![2]) + Number(billed![3])).toBe(19);
    expect(stdout).toMatch(/dead-lettered \S+ max-deliveries Error: order o-7: negative amount/);
    expect(stdout).toContain("dead_letter_deliveries: '3'");
  });
});
