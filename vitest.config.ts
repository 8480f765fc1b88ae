import { defineConfig } from 'vitest/config';

/**
 * Two tiers, one command each (`npm test` runs both):
 * - fast (`npm run test:fast`): in-process tests on memfs and small real trees, under a minute on
 *   two cores; test/unit mirrors src/, one test file per module, beside the CLI and docs checks.
 * - system: the kernel as judge, stress, the fixer's safety on real disks, real tools and
 *   servers (test/kernel, test/stress, test/fix, test/integration), and the unit tests that spawn
 *   the CLI many times (named *.system.test.ts beside the module they cover).
 */
const FAST = ['test/unit/**/*.test.ts', 'test/docs/**/*.test.ts', 'test/config/**/*.test.ts', 'test/report/**/*.test.ts', 'test/cli/**/*.test.ts'];
const SLOW = '**/*.system.test.ts';

const common = {
  // The fixer pins directories with process.chdir, which worker threads do not allow.
  pool: 'forks' as const,
  // Two test files at a time, also on the two-core machines (vitest's default there is one):
  // most system tests wait on child processes and the disk. The system tier: 12.2 min of file
  // time in 6.6 min wall (2026-12-07), every timing-sensitive test still green.
  maxWorkers: 2,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    ...common,
    projects: [
      { test: { ...common, name: 'fast', include: FAST, exclude: [SLOW] } },
      { test: { ...common, name: 'system', include: ['test/kernel/**/*.test.ts', 'test/stress/**/*.test.ts', 'test/fix/**/*.test.ts', 'test/integration/**/*.test.ts', `test/${SLOW}`] } },
    ],
  },
});
