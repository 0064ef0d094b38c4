/**
 * The bench runner: `npm run bench [-- --quick] [-- --only <suite>[,<suite>]]`.
 *
 * Starts its own redis-server (or uses `BENCH_REDIS_URL`), runs every `src/suites/*.ts` in name
 * order, each with a fresh key prefix, prints a table and writes `results/latest.json`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { cleanupKeys, startRedis, type RedisServer } from '@streamkit/testing/server';
import type { BenchContext, BenchResult, BenchSuite } from './types.js';

const resultSchema = z.object({
  name: z.string().min(1),
  opsPerSec: z.number().finite().nonnegative(),
  baseline: z.string().min(1),
  baselineOpsPerSec: z.number().finite().nonnegative(),
  ratio: z.number().finite().nonnegative(),
  note: z.string().optional(),
});

const suitesDir = new URL('./suites/', import.meta.url);
const resultsFile = new URL('../results/latest.json', import.meta.url);

function usage(): string {
  return 'usage: npm run bench -- [--quick] [--only <suite>[,<suite>...]]';
}

async function suiteNames(): Promise<string[]> {
  const files = await readdir(suitesDir);
  return files
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.includes('.test.'))
    .map((file) => basename(file, '.ts'))
    .sort();
}

/** Thousands separated; small rates (queries/s) keep 3 significant digits instead of rounding to 0. */
function formatOps(value: number): string {
  if (value !== 0 && Math.abs(value) < 100) return value.toPrecision(3);
  return Math.round(value).toLocaleString('en-US');
}

function table(rows: BenchResult[]): string {
  const header = ['name', 'ops/s', 'baseline', 'baseline ops/s', 'ratio', 'note'];
  const cells = rows.map((r) => [r.name, formatOps(r.opsPerSec), r.baseline, formatOps(r.baselineOpsPerSec), `${r.ratio.toFixed(2)}×`, r.note ?? '']);
  const numeric = [false, true, false, true, true, false];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((text, i) => (numeric[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const quick = values.quick === true;
  const available = await suiteNames();
  const wanted = (values.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length) {
    console.error(`unknown suite ${unknown.map((n) => `"${n}"`).join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  const suites = wanted.length ? available.filter((name) => wanted.includes(name)) : available;

  const external = process.env.BENCH_REDIS_URL;
  let server: RedisServer | undefined;
  let url: string;
  if (external) {
    url = external;
  } else {
    server = await startRedis();
    url = server.url;
  }
  const admin = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: true });
  await admin.connect();
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
  console.log(`redis ${version} at ${url}${server ? ' (started by bench)' : ' (BENCH_REDIS_URL)'}; node ${process.version}${quick ? '; --quick' : ''}`);
  console.log(`suites: ${suites.join(', ')}\n`);

  const results: BenchResult[] = [];
  const failures: string[] = [];
  try {
    for (const name of suites) {
      const prefix = `bench:${name}:${randomBytes(3).toString('hex')}:`;
      const context: BenchContext = { url, quick, prefix };
      const started = Date.now();
      process.stdout.write(`▶ ${name} … `);
      try {
        const module = (await import(pathToFileURL(fileURLToPath(new URL(`${name}.ts`, suitesDir))).href)) as { default?: BenchSuite };
        if (typeof module.default !== 'function') throw new Error(`src/suites/${name}.ts has no default export function`);
        const rows = z.array(resultSchema).parse(await module.default(context));
        results.push(...rows);
        console.log(`${rows.length} result(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (error) {
        failures.push(name);
        console.log('FAILED');
        console.error(error);
      } finally {
        // Whatever a suite left behind: everything on our own server, its prefix on someone else's.
        if (server) await admin.flushall();
        else {
          const left = await cleanupKeys(admin, prefix);
          if (left > 0) console.warn(`  (${name} left ${left} key(s) under ${prefix}; removed)`);
        }
      }
    }
  } finally {
    await admin.quit().catch(() => admin.disconnect());
    await server?.destroy();
  }

  console.log(`\n${table(results)}\n`);
  await mkdir(new URL('.', resultsFile), { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${fileURLToPath(resultsFile).replace(`${process.cwd()}/`, '')}`);
  if (failures.length) {
    console.error(`failed: ${failures.join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // A suite that leaves a connection open must not hang the run (CI): exit anyway, and say so.
    setTimeout(() => {
      console.warn('a suite left open handles (connections, timers); exiting anyway');
      process.exit(code);
    }, 2_000).unref();
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
