import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoClient } from '../src/adapters/aws.ts';
import { logger } from '../src/adapters/observability.ts';
import type { OutboxRow } from '../src/domain/engine/model.ts';
import { deliver } from '../src/domain/notify/deliver.ts';
import { runtimeConfig } from '../src/runtime/engine.ts';
import { deliverDeps } from '../src/runtime/notify.ts';

/**
 * Notifications queue consumer: renders each outbox row for its recipient and sends it through the
 * channel. Idempotent per delivery id (Powertools idempotency records), so a redelivered message
 * notifies once.
 */
const processor = new BatchProcessor(EventType.SQS);
let idempotent: ((row: OutboxRow) => Promise<unknown>) | undefined;
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'deliveryId',
  expiresAfterSeconds: 30 * 86400,
});

function deliverOnce(): (row: OutboxRow) => Promise<unknown> {
  idempotent ??= makeIdempotent(async (row: OutboxRow) => deliver(deliverDeps(), row), {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: runtimeConfig().table('idempotency'),
      awsSdkV3Client: dynamoClient(),
    }),
    config: idempotencyConfig,
  });
  return idempotent;
}

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const row = JSON.parse(record.body) as OutboxRow;
  await deliverOnce()(row);
  logger.info('notification delivered', { deliveryId: row.deliveryId, ref: row.ref });
};

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  return processPartialResponse(event, recordHandler, processor, { context });
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
