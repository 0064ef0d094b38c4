import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createStreamClient } from '@streamkit/core';
import { createAuditLog, type AuditEntry, type VerifyResult } from '@streamkit/audit-log';

const run = promisify(execFile);

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The Redis server to use; the demo writes under its own prefix and removes its keys at the end. */
  redisUrl: string;
  /** Where the demo prints (default: stdout). */
  log?: (line: string) => void;
}

/** What the demo saw: the clean verification, the one after tampering, and how the tampering was done. */
export interface DemoResult {
  clean: VerifyResult;
  tampered: VerifyResult;
  tamperedId: string;
  via: 'redis-cli' | 'ioredis';
}

/**
 * Rewrites one entry of a stream in place (entries are immutable, so the script recreates the
 * stream with the same ids), replacing text inside its `entry` field: what an insider with write
 * access to Redis could do to cover their tracks.
 */
export const TAMPER_SCRIPT = `
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
local needle = string.gsub(ARGV[2], '%p', '%%%0')
for _, e in ipairs(entries) do
  local f = e[2]
  if e[1] == ARGV[1] then
    for i = 1, #f, 2 do
      if f[i] == 'entry' then f[i + 1] = (string.gsub(f[i + 1], needle, ARGV[3])) end
    end
  end
  redis.call('XADD', KEYS[1], e[1], unpack(f))
end
return #entries`;

function hasRedisCli(): boolean {
  return spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * The classic scenario: user:123 reads and updates document:456 from 192.168.1.1, user:789
 * deletes it from 10.0.0.5. Prints the trail of document:456 and the activity of user:123,
 * verifies the log (clean), then rewrites the delete entry with a raw command (through
 * `redis-cli` when it is installed, else ioredis) so it blames user:123, and shows verify
 * catching it.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const print = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const prefix = `compliance-demo:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(options.redisUrl);
  const client = createStreamClient({ redis, prefix });
  const { privateKey } = generateKeyPairSync('ed25519');
  const log = createAuditLog({ client, name: 'compliance', signer: { keyId: 'demo-key', privateKey } });
  const show = (entry: AuditEntry) => `    #${entry.seq} ${entry.time.toISOString()}  ${entry.actor.padEnd(9)} ${entry.action.padEnd(16)} ${entry.resource}  from ${entry.ip}`;
  try {
    print('== Compliance audit trail (tamper-evident, on Redis Streams)');
    await log.record({ actor: 'user:123', action: 'document.read', resource: 'document:456', ip: '192.168.1.1' });
    await log.record({ actor: 'user:123', action: 'document.update', resource: 'document:456', ip: '192.168.1.1', details: { fields: ['title'] } });
    const deleted = await log.record({ actor: 'user:789', action: 'document.delete', resource: 'document:456', ip: '10.0.0.5' });
    print('recorded 3 events: user:123 reads and updates document:456, user:789 deletes it');

    print('\nTrail of document:456');
    for (const entry of await log.byResource('document:456')) print(show(entry));
    print('\nActivity of user:123');
    for (const entry of await log.byActor('user:123')) print(show(entry));

    const checkpoint = await log.checkpoint();
    print(`\nsigned checkpoint: size ${checkpoint.size}, head ${checkpoint.head.slice(0, 16)}…, key ${checkpoint.keyId}`);
    const clean = await log.verify({ trusted: checkpoint });
    print(`verify: ${clean.ok ? 'OK' : 'PROBLEMS'} (${clean.checked} entries, ${clean.problems.length} problems)`);

    // An insider rewrites the delete so that it blames user:123.
    const via = hasRedisCli() ? 'redis-cli' : 'ioredis';
    print(`\n!! tampering with entry ${deleted.id} through ${via}: user:789 -> user:123`);
    if (via === 'redis-cli') {
      const args = ['-u', options.redisUrl, 'EVAL', TAMPER_SCRIPT, '1', log.keys.log, deleted.id, 'user:789', 'user:123'];
      print(`   $ redis-cli -u ${options.redisUrl} EVAL "<rewrite one entry>" 1 ${log.keys.log} ${deleted.id} user:789 user:123`);
      await run('redis-cli', args);
    } else {
      await redis.eval(TAMPER_SCRIPT, 1, log.keys.log, deleted.id, 'user:789', 'user:123');
    }
    const forged = (await log.range(deleted.id, deleted.id))[0];
    if (forged) print(`the log now says:\n${show(forged)}`);

    const tampered = await log.verify({ trusted: checkpoint });
    print(`\nverify: ${tampered.ok ? 'OK' : 'TAMPERING DETECTED'}`);
    for (const problem of tampered.problems) print(`  ${problem.kind} at ${problem.id}: ${problem.message}`);
    return { clean, tampered, tamperedId: deleted.id, via };
  } finally {
    await log.destroy().catch(() => undefined);
    await client.close();
    redis.disconnect();
  }
}
