import { defineConfig } from 'vitest/config';

/**
 * The fault suite (issue 15, item 5): long-running, one file at a time so the timings and the
 * agent's memory and descriptor figures are not disturbed by a neighbour. `npm run test:faults`.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/**/*.fault.ts'],
    testTimeout: 10 * 60_000,
    hookTimeout: 2 * 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    globalSetup: ['test/faults/global-setup.ts'],
  },
});
