// Plain JavaScript on purpose: vitest loads `vitest.config.ts` by bundling it with Vite 8's
// rolldown, which leaves every bare import (this module too, though it is a linked workspace
// package) to Node, and Node 20 cannot import a .ts file. Types: ./vitest.d.ts.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import { defineConfig, mergeConfig } from 'vitest/config';

/** @type {string[]} */
export const streamkitConditions = [
  '@streamkit/source',
  ...defaultServerConditions.filter((condition) => condition !== 'module'),
];

/**
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function streamkitVitestConfig(overrides = {}) {
  // With STREAMKIT_TEST_REPORT_DIR set (CI does), each package also writes a JSON report there,
  // so one closing line can count every package's tests.
  const reportDir = process.env.STREAMKIT_TEST_REPORT_DIR;
  const reporting = reportDir
    ? {
        reporters: ['default', 'json'],
        outputFile: { json: `${reportDir}/${basename(process.cwd())}.json` },
      }
    : {};
  const base = /** @type {import('vitest/config').ViteUserConfig} */ (
    defineConfig({
      resolve: { conditions: streamkitConditions },
      ssr: { resolve: { conditions: streamkitConditions } },
      test: {
        include: ['src/**/*.test.ts'],
        globalSetup: [fileURLToPath(new URL('./globalSetup.ts', import.meta.url))],
        testTimeout: 30_000,
        hookTimeout: 60_000,
        teardownTimeout: 30_000,
        pool: 'forks',
        ...reporting,
      },
    })
  );
  return mergeConfig(base, overrides);
}
