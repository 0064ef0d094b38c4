import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, createStreamClient, StreamkitError, ValidationError, type StreamClient } from '@streamkit/core';
import { createAuditLog, type AuditEntry, type AuditLog, type Checkpoint, type QueryOptions, type VerifyProblem } from '@streamkit/audit-log';
import { ProgressBar, type ProgressTarget } from './progress.js';

/** Where the CLI reads its environment and writes its output (the process's by default; tests pass their own). */
export interface CliIo {
  stdout: ProgressTarget;
  stderr: ProgressTarget;
  env: Record<string, string | undefined>;
}

/** Logs at least this long get a progress bar on verify and export when stderr is a terminal. */
export const PROGRESS_THRESHOLD = 10_000;

export const USAGE = `compliance-audit: a tamper-evident audit trail on Redis

Usage: compliance-audit <command> [options]

Commands
  record --actor A --action X --resource R [--outcome O] [--ip IP] [--user-agent UA] [--request-id ID] [--details JSON]
  activity <actor>        what one actor did     [--from T] [--to T] [--limit N] [--actions a,b] [--reverse]
  trail <resource>        what was done to it    (same options)
  verify                  check the whole log; exit 1 on any problem   [--trusted checkpoint.json]... [--from T] [--to T]
  checkpoint              sign the current head (needs --key); prints it  [--out file]
  export --format csv|jsonl                      [--out file] [--from T] [--to T]

Options
  --redis URL             default $REDIS_URL or redis://127.0.0.1:6379
  --cluster HOST:PORT,... a Redis Cluster instead (default $REDIS_CLUSTER_NODES)
  --prefix P              key prefix (default "")
  --name NAME             the log's name (default "compliance")
  --key FILE              Ed25519 private key (PEM) that signs checkpoints
  --key-id ID             its key id (default "default")
  --verify-key FILE       Ed25519 public key (PEM) to check signatures, as --key-id
  --progress              always draw the progress bar; --no-progress never
  --json                  print entries and results as JSON
`;

const OPTIONS = {
  redis: { type: 'string' },
  cluster: { type: 'string' },
  prefix: { type: 'string' },
  name: { type: 'string' },
  key: { type: 'string' },
  'key-id': { type: 'string' },
  'verify-key': { type: 'string' },
  progress: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  actor: { type: 'string' },
  action: { type: 'string' },
  resource: { type: 'string' },
  outcome: { type: 'string' },
  ip: { type: 'string' },
  'user-agent': { type: 'string' },
  'request-id': { type: 'string' },
  details: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  actions: { type: 'string' },
  reverse: { type: 'boolean' },
  trusted: { type: 'string', multiple: true },
  out: { type: 'string' },
  format: { type: 'string' },
} as const;

class UsageError extends Error {}

/** A time bound from the command line: an id, epoch ms, or an ISO date. */
function bound(value: string | undefined): string | number | Date | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(-\d+)?$/.test(value)) return /-/.test(value) ? value : Number(value);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`not a time or an id: ${value}`);
  return date;
}

function formatEntry(entry: AuditEntry): string {
  const where = entry.ip ? ` from ${entry.ip}` : '';
  const outcome = entry.outcome === 'success' ? '' : ` [${entry.outcome}]`;
  return `${entry.time.toISOString()}  #${entry.seq}  ${entry.actor}  ${entry.action}  ${entry.resource}${where}${outcome}`;
}

function formatProblem(problem: VerifyProblem): string {
  return `  ${problem.kind.padEnd(15)} ${problem.id.padEnd(22)} ${problem.message}`;
}

function connect(values: { redis?: string; cluster?: string }, env: CliIo['env']): Redis | Cluster {
  const nodes = values.cluster ?? (values.redis ? undefined : env.REDIS_CLUSTER_NODES);
  if (nodes) {
    const startup = nodes.split(',').map((node) => {
      const [host, port] = node.trim().split(':');
      if (!host || !port) throw new UsageError(`--cluster takes host:port,host:port; got ${node}`);
      return { host, port: Number(port) };
    });
    return new Cluster(startup, { scaleReads: 'master', redisOptions: { maxRetriesPerRequest: 3 } });
  }
  return new Redis(values.redis ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3, lazyConnect: false });
}

/**
 * Runs the CLI with arguments (without `node` and the script) and resolves with the exit code:
 * 0 when all is well, 1 when `verify` found a problem, 2 for bad usage or input, 3 for other errors.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const err = (line: string) => io.stderr.write(`${line}\n`);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    out(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (!['record', 'activity', 'trail', 'verify', 'checkpoint', 'export'].includes(command)) {
    err(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }

  let redis: Redis | Cluster | undefined;
  let client: StreamClient | undefined;
  try {
    const keyId = values['key-id'] ?? 'default';
    let signer: { keyId: string; privateKey: KeyObject } | undefined;
    const verifyKeys: Record<string, KeyObject> = {};
    if (values.key) signer = { keyId, privateKey: createPrivateKey(readFileSync(values.key)) };
    if (values['verify-key']) verifyKeys[keyId] = createPublicKey(readFileSync(values['verify-key']));
    redis = connect(values, io.env);
    redis.on('error', () => undefined); // reported through the failing command
    client = createStreamClient({ redis, prefix: values.prefix ?? '' });
    const log = createAuditLog({ client, name: values.name ?? 'compliance', signer, verifyKeys });
    return await dispatch(command, rest, values, log, io, out, err);
  } catch (error) {
    if (error instanceof UsageError || ConfigError.is(error)) {
      err(error.message);
      return 2;
    }
    if (ValidationError.is(error)) {
      err(`invalid record: ${error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ')}`);
      return 2;
    }
    err(`error: ${StreamkitError.is(error) || error instanceof Error ? error.message : String(error)}`);
    return 3;
  } finally {
    await client?.close();
    redis?.disconnect();
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

async function dispatch(
  command: string,
  rest: string[],
  values: Values,
  log: AuditLog,
  io: CliIo,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const progressWanted = (total: number) =>
    values['no-progress'] ? false : values.progress === true || (io.stderr.isTTY === true && total >= PROGRESS_THRESHOLD);

  switch (command) {
    case 'record': {
      let details: unknown;
      if (values.details !== undefined) {
        try {
          details = JSON.parse(values.details);
        } catch {
          throw new UsageError('--details must be a JSON object');
        }
      }
      const result = await log.record({
        actor: values.actor as string,
        action: values.action as string,
        resource: values.resource as string,
        outcome: values.outcome,
        ip: values.ip,
        userAgent: values['user-agent'],
        requestId: values['request-id'],
        details: details as never,
      });
      out(values.json ? JSON.stringify(result) : `recorded #${result.seq} ${result.id} ${result.hash}`);
      return 0;
    }
    case 'activity':
    case 'trail': {
      const subject = rest[0];
      if (!subject) throw new UsageError(`${command} needs ${command === 'activity' ? 'an actor' : 'a resource'}`);
      const options: QueryOptions = {
        from: bound(values.from),
        to: bound(values.to),
        limit: values.limit === undefined ? undefined : Number(values.limit),
        actions: values.actions?.split(',').filter(Boolean),
        reverse: values.reverse,
      };
      const entries = command === 'activity' ? await log.byActor(subject, options) : await log.byResource(subject, options);
      if (values.json) for (const entry of entries) out(JSON.stringify(entry));
      else {
        out(`${command === 'activity' ? 'Activity of' : 'Trail of'} ${subject}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
        for (const entry of entries) out(`  ${formatEntry(entry)}`);
      }
      return 0;
    }
    case 'verify': {
      const trusted: Checkpoint[] = (values.trusted ?? []).map((file) => JSON.parse(readFileSync(file, 'utf8')) as Checkpoint);
      const total = await log.length();
      const bar = new ProgressBar(io.stderr, 'verified', progressWanted(total));
      const result = await log.verify({ trusted, from: bound(values.from), to: bound(values.to), onProgress: ({ checked, total }) => bar.update(checked, total) });
      bar.done();
      if (values.json) out(JSON.stringify(result));
      else if (result.ok) out(`OK: ${result.checked} entries verified, ${result.checkpoints} signed checkpoint(s) matched${result.head ? `; head #${result.head.seq} ${result.head.hash}` : ''}`);
      else {
        out(`TAMPERING DETECTED: ${result.problems.length} problem(s) in ${result.checked} entries`);
        for (const problem of result.problems) out(formatProblem(problem));
      }
      return result.ok ? 0 : 1;
    }
    case 'checkpoint': {
      const checkpoint = await log.checkpoint();
      const json = JSON.stringify(checkpoint, null, 2);
      if (values.out) {
        await pipeline(async function* () {
          yield json + '\n';
        }, createWriteStream(values.out));
        err(`checkpoint of size ${checkpoint.size} written to ${values.out}: keep it outside Redis`);
      }
      out(json);
      return 0;
    }
    case 'export': {
      if (values.format !== 'csv' && values.format !== 'jsonl') throw new UsageError('export needs --format csv or --format jsonl');
      const total = await log.length();
      const bar = new ProgressBar(io.stderr, 'exported', progressWanted(total));
      const stream = log.export({ format: values.format, from: bound(values.from), to: bound(values.to), onProgress: ({ done, total }) => bar.update(done, total) });
      const target = values.out
        ? createWriteStream(values.out)
        : new Writable({
            write(chunk, _encoding, callback) {
              io.stdout.write(chunk.toString());
              callback();
            },
          });
      await pipeline(stream, target);
      bar.done();
      if (values.out) err(`exported ${total} entries to ${values.out}`);
      return 0;
    }
  }
  err(`unknown command "${command}"`);
  return 2;
}
