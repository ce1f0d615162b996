import { defineConfig } from 'vitest/config';

// End-to-end tests: headless Chromium against the console and the local engine. Run with
// `npx vitest run -c test/e2e/vitest.config.ts`, or as the `e2e` project of vitest.config.ts.
// Each file starts its own local stack (DynamoDB Local + fauxqs), so files run one at a time.
export default defineConfig({
  test: {
    name: 'e2e',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
