import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisTargets, useRedis } from '@streamkit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from './cli.js';
import { runDemo } from './demo.js';

const execFileAsync = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/compliance-audit.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'compliance-audit-'));
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyFile = join(dir, 'key.pem');
const pubFile = join(dir, 'key.pub.pem');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(isTTY = false): CliIo & { output(): string; errors(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text), isTTY },
    env: {},
    output: () => out,
    errors: () => err,
  };
}

describe.each(redisTargets())('compliance-audit CLI on %s', (target) => {
  const ctx = useRedis(target);
  const connection = () => (target.name === 'cluster' ? ['--cluster', target.startupNodes!.map((n) => `${n.host}:${n.port}`).join(',')] : ['--redis', target.url!]);
  const cli = async (args: string[], io = capture()) => ({ code: await runCli([...args, ...connection(), '--prefix', ctx.prefix, '--key', keyFile], io), io });

  it('records, shows activity and trails, verifies, checkpoints and exports', async () => {
    expect((await cli(['record', '--actor', 'user:123', '--action', 'document.read', '--resource', 'document:456', '--ip', '192.168.1.1'])).code).toBe(0);
    await cli(['record', '--actor', 'user:123', '--action', 'document.update', '--resource', 'document:456', '--ip', '192.168.1.1', '--details', '{"fields":["title"]}']);
    const third = await cli(['record', '--actor', 'user:789', '--action', 'document.delete', '--resource', 'document:456', '--ip', '10.0.0.5', '--json']);
    expect(JSON.parse(third.io.output())).toMatchObject({ seq: 3 });

    const activity = await cli(['activity', 'user:123']);
    expect(activity.code).toBe(0);
    expect(activity.io.output()).toContain('Activity of user:123: 2 entries');
    expect(activity.io.output()).toMatch(/#2 {2}user:123 {2}document\.update {2}document:456 from 192\.168\.1\.1/);
    const trail = await cli(['trail', 'document:456', '--actions', 'document.delete', '--json']);
    const lines = trail.io.output().trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((e) => [e.actor, e.action, e.ip])).toEqual([['user:789', 'document.delete', '10.0.0.5']]);

    const checkpointFile = join(dir, `checkpoint-${target.name}.json`);
    const checkpoint = await cli(['checkpoint', '--out', checkpointFile]);
    expect(checkpoint.code).toBe(0);
    expect(JSON.parse(readFileSync(checkpointFile, 'utf8'))).toMatchObject({ size: 3, keyId: 'default' });

    const verify = await cli(['verify', '--trusted', checkpointFile]);
    expect(verify.code).toBe(0);
    expect(verify.io.output()).toContain('OK: 3 entries verified, 2 signed checkpoint(s) matched');

    const csv = await cli(['export', '--format', 'csv']);
    expect(csv.io.output().split('\r\n').filter(Boolean)).toHaveLength(4);
    const file = join(dir, `export-${target.name}.jsonl`);
    await cli(['export', '--format', 'jsonl', '--out', file]);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line).seq)).toEqual([1, 2, 3]);

    // Truncation: the newest entry goes, a verifier with only the public key and the kept checkpoint sees it.
    await ctx.redis.xdel(`${ctx.prefix}{audit:compliance}:log`, JSON.parse(third.io.output()).id);
    const io = capture();
    const code = await runCli(['verify', ...connection(), '--prefix', ctx.prefix, '--verify-key', pubFile, '--trusted', checkpointFile], io);
    expect(code).toBe(1);
    expect(io.output()).toContain('TAMPERING DETECTED');
    expect(io.output()).toMatch(/truncated +\S+ +a signed checkpoint says the log had 3 entries/);
  });

  it('rejects bad input with exit code 2 and writes nothing', async () => {
    const bad = await cli(['record', '--actor', 'user:1', '--action', 'read', '--resource', 'doc', '--ip', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.io.errors()).toContain('ip:');
    expect((await cli(['export', '--format', 'xml'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['activity', 'user:1', '--limit', 'ten'])).code).toBe(2);
    expect((await cli(['verify', '--name', 'not a name'])).code).toBe(2);
    expect(await ctx.redis.exists(`${ctx.prefix}{audit:compliance}:log`)).toBe(0);
  });

  it('draws a progress bar on verify and export of large logs', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => cli(['record', '--actor', `user:${i}`, '--action', 'read', '--resource', 'doc:1', '--no-progress'])),
    );
    const verify = await cli(['verify', '--progress']);
    expect(verify.code).toBe(0);
    expect(verify.io.errors()).toMatch(/\r\[#{30}\] 100% {2}30\/30 verified\n$/);
    const exported = await cli(['export', '--format', 'jsonl', '--progress']);
    expect(exported.io.errors()).toMatch(/100% {2}30\/30 exported/);
    const quiet = await cli(['verify']); // a small log on a non-terminal: no bar
    expect(quiet.io.errors()).toBe('');
  });
});

describe('compliance-audit as a command', () => {
  const [standalone] = redisTargets();
  const ctx = useRedis(standalone!);

  it('exits non-zero when verify finds a problem', async () => {
    const args = ['--redis', standalone!.url!, '--prefix', ctx.prefix];
    await execFileAsync(process.execPath, [bin, 'record', '--actor', 'u:1', '--action', 'a', '--resource', 'r', ...args]);
    await execFileAsync(process.execPath, [bin, 'record', '--actor', 'u:1', '--action', 'b', '--resource', 'r', ...args]);
    const ok = await execFileAsync(process.execPath, [bin, 'verify', ...args]);
    expect(ok.stdout).toContain('OK: 2 entries verified');
    await ctx.redis.xadd(`${ctx.prefix}{audit:compliance}:log`, '*', 'seq', '3', 'prev', 'x', 'hash', 'y', 'entry', '{}');
    const failed = await execFileAsync(process.execPath, [bin, 'verify', ...args]).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('inserted');
  }, 30_000);

  it('runDemo verifies clean, then catches the tampered entry', async () => {
    const lines: string[] = [];
    const result = await runDemo({ redisUrl: standalone!.url!, log: (line) => lines.push(line) });
    expect(result.clean.ok).toBe(true);
    expect(result.tampered.ok).toBe(false);
    expect(result.tampered.problems.map((p) => [p.kind, p.id])).toEqual([['modified', result.tamperedId]]);
    const text = lines.join('\n');
    expect(text).toContain('Trail of document:456');
    expect(text).toMatch(/user:789 +document\.delete/);
    expect(text).toContain('TAMPERING DETECTED');
    expect(await ctx.redis.keys('compliance-demo:*')).toEqual([]);
  });
});
