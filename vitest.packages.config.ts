import { defineConfig } from 'vitest/config';

/** npm run test:packages: the tarballs, installed outside the repository (test/packages). */
export default defineConfig({
  test: {
    include: ['test/packages/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    // One file; its projects install side by side.
    fileParallelism: false,
  },
});
