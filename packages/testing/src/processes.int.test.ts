import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const orphan = fileURLToPath(new URL('./fixtures/orphan.ts', import.meta.url));

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('servers do not outlive the process that started them', () => {
  it.each([
    ['its event loop runs dry', []],
    ['it calls process.exit()', ['--exit']],
  ])('when %s', async (_, flags) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', orphan, ...flags], { timeout: 20_000 });
    const { port, dir } = JSON.parse(stdout) as { port: number; dir: string };
    expect(await refused(port)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
