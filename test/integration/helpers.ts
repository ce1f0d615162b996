import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { resetClients, sqsClient } from '../../src/adapters/aws.ts';
import { fixedClock } from '../../src/clock.ts';
import { type Consumers, drainQueues, functionHandlers, sendLines } from '../../src/local/pipeline.ts';
import { applyEnv, type LocalQueue, provision } from '../../src/local/stack.ts';
import type { QueueId } from '../../src/resources.ts';
import { resetRuntime, setClock } from '../../src/runtime/engine.ts';
import { resetNotifyRuntime } from '../../src/runtime/notify.ts';

/** A test's own slice of the shared local stack: fresh tables and queues under a unique prefix. */
export interface TestEngine {
  prefix: string;
  queues: Record<QueueId, LocalQueue>;
  consumers: Consumers;
  dataDir: string;
  notifyFile: string;
}

const _envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
let counter = 0;

/**
 * Creates tables and queues under a new prefix on the shared local stack and points this test
 * process's engine at them (fixed clock when `now` is given).
 */
export async function useTestEngine(name: string, now?: string): Promise<TestEngine> {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
  const prefix = `it-${name}-${process.pid}-${++counter}`.slice(0, 40);
  const { queues, env: stackEnv } = await provision(dynamoEndpoint, sqsEndpoint, prefix);
  const dataDir = mkdtempSync(join(tmpdir(), `pb-${name}-`));
  const notifyFile = join(dataDir, 'notifications.jsonl');
  const env: Record<string, string> = {
    ...stackEnv,
    PB_DATA_DIR: dataDir,
    PB_NOTIFY_FILE: notifyFile,
    PB_PSEUDONYM_KEY: '7'.repeat(64),
  };
  applyEnv(env);
  resetClients();
  resetRuntime();
  resetNotifyRuntime();
  if (now) setClock(fixedClock(now));
  return { prefix, queues, consumers: await functionHandlers(), dataDir, notifyFile };
}

/** The sample stream every scenario starts from: `events/samples/demo.jsonl`, one event a line. */
export const demoLines = (): string[] =>
  readFileSync('events/samples/demo.jsonl', 'utf8')
    .split('\n')
    .filter((l) => l.trim());

/** Sends the demo stream to an engine's agency-events queue and runs its handlers until every queue is empty. */
export async function decideDemo(engine: {
  queues: Record<QueueId, LocalQueue>;
  consumers: Consumers;
}): Promise<void> {
  await sendLines(
    sqsClient(),
    engine.queues.agencyEvents.url,
    demoLines().map((body, i) => ({ line: i + 1, body })),
  );
  await drainQueues(engine.queues, engine.consumers);
}
