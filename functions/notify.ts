import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoClient } from '../src/adapters/aws.ts';
import { logger, logRecordFailures } from '../src/adapters/observability.ts';
import type { OutboxRow } from '../src/domain/engine/model.ts';
import { deliver } from '../src/domain/notify/deliver.ts';
import { runtimeConfig } from '../src/runtime/engine.ts';
import { deliverDeps } from '../src/runtime/notify.ts';

/**
 * Notifications queue consumer: renders each outbox row for its recipient and sends it through the
 * channel. Idempotent per delivery id (Powertools idempotency records), so a redelivered message
 * notifies once.
 */
let idempotent: { table: string; client: unknown; fn: (row: OutboxRow) => Promise<unknown> } | undefined;
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'deliveryId',
  expiresAfterSeconds: 30 * 86400,
});

/** The idempotent delivery, rebuilt when the configuration changed (a local process can switch stacks). */
function deliverOnce(): (row: OutboxRow) => Promise<unknown> {
  const table = runtimeConfig().table('idempotency');
  const client = dynamoClient();
  if (idempotent?.table !== table || idempotent.client !== client) {
    const fn = makeIdempotent(async (row: OutboxRow) => deliver(deliverDeps(), row), {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: client }),
      config: idempotencyConfig,
    });
    idempotent = { table, client, fn };
  }
  return idempotent.fn;
}

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const row = JSON.parse(record.body) as OutboxRow;
  await deliverOnce()(row);
  logger.debug('notification delivered', { deliveryId: row.deliveryId, ref: row.ref });
};

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  // A processor per invocation: the local poller may run several invocations of this module at once.
  // Unlike ingest and evaluate, no time budget for the records: a delivery left running when the
  // handler answered would resume at this environment's next invocation, possibly after its
  // idempotency record's in-progress window (this invocation's deadline) and the redelivery's own
  // send; a function timeout resets the environment instead.
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  logRecordFailures(processor, 'notifications');
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
