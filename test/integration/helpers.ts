import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { resetClients } from '../../src/adapters/aws.ts';
import { fixedClock } from '../../src/clock.ts';
import { type Consumers, functionHandlers } from '../../src/local/pipeline.ts';
import { applyEnv, createResources, type LocalQueue } from '../../src/local/stack.ts';
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

const envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
let counter = 0;

/**
 * Creates tables and queues under a new prefix on the shared local stack and points this test
 * process's engine at them (fixed clock when `now` is given).
 */
export async function useTestEngine(name: string, now?: string): Promise<TestEngine> {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
  const prefix = `it-${name}-${process.pid}-${++counter}`.slice(0, 40);
  const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
  const dynamo = new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'cn-north-1', credentials: creds });
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'cn-north-1',
    credentials: creds,
    useQueueUrlAsEndpoint: false,
  });
  const queues = await createResources(dynamo, sqs, prefix);
  dynamo.destroy();
  sqs.destroy();
  const dataDir = mkdtempSync(join(tmpdir(), `pb-${name}-`));
  const notifyFile = join(dataDir, 'notifications.jsonl');
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_REGION: 'cn-north-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    PB_PREFIX: prefix,
    PB_DATA_DIR: dataDir,
    PB_NOTIFY_FILE: notifyFile,
    PB_PSEUDONYM_KEY: '7'.repeat(64),
  };
  for (const id of Object.keys(queues) as QueueId[]) {
    env[`PB_QUEUE_URL_${envKey(id)}`] = queues[id].url;
    env[`PB_DLQ_URL_${envKey(id)}`] = queues[id].dlqUrl;
  }
  applyEnv(env);
  resetClients();
  resetRuntime();
  resetNotifyRuntime();
  if (now) setClock(fixedClock(now));
  return { prefix, queues, consumers: await functionHandlers(), dataDir, notifyFile };
}
