import { defineConfig } from 'vitest/config';

// Four projects: pure unit tests, integration tests against the real local stack
// (DynamoDB Local + fauxqs started once by the global setup), the browser end-to-end test of the
// console, and infra (CDK synth + cdk-nag).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Generous limits: two workers share two cores with the contract and differential tests, so a
          // test's time says nothing about its correctness (speed has its own benchmark).
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          // A suite's beforeAll synthesises a stack, as slow as a test on a busy machine.
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
