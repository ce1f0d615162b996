import type { TestProject } from 'vitest/node';
import { startLocalStack, type LocalStack } from '../../src/local/stack.ts';

let stack: LocalStack | undefined;

/**
 * Starts ONE local stack (DynamoDB Local in memory + fauxqs) for every integration test file and
 * stops it, Java child included, however the tests end. Files get their own name prefix.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  stack = await startLocalStack({ prefix: 'pb-it-base' });
  project.provide('dynamoEndpoint', stack.dynamoEndpoint);
  project.provide('sqsEndpoint', stack.sqsEndpoint);
  return async () => {
    await stack?.stop();
    stack = undefined;
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}
