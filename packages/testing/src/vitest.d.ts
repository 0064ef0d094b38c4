import type { ViteUserConfig } from 'vitest/config';

/**
 * Resolve conditions for tests: the workspace source condition first, so `@streamkit/*`
 * packages load from `src/` without a build, then the conditions vitest itself uses for Node
 * tests: Vite's `defaultServerConditions` without `'module'` (vitest drops `'module'` because
 * the same list is passed to Node as `--conditions` for externalized dependencies).
 * With Vite 8.4: `['@streamkit/source', 'node', 'development|production']`.
 */
export declare const streamkitConditions: string[];

/**
 * The shared vitest config of every streamkit package: `src/**\/*.test.ts`, the Redis global
 * setup (standalone + cluster, see `@streamkit/testing/global-setup`), 30 s tests, 60 s hooks,
 * the `forks` pool, and the `@streamkit/source` condition in `resolve.conditions` and
 * `ssr.resolve.conditions`. `overrides` are merged with Vite's `mergeConfig` (arrays such as
 * `test.include` are concatenated, not replaced).
 *
 * This entry is plain JavaScript (`vitest.js`) because Node, not Vite, loads it when vitest
 * bundles a `vitest.config.ts`.
 *
 * @example
 * ```ts
 * // packages/core/vitest.config.ts
 * import { streamkitVitestConfig } from '@streamkit/testing/vitest';
 *
 * export default streamkitVitestConfig();
 * ```
 */
export declare function streamkitVitestConfig(overrides?: ViteUserConfig): ViteUserConfig;
