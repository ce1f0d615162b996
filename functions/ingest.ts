import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../src/adapters/observability.ts';
import { ingestRaw } from '../src/domain/engine/ingest.ts';
import { primeSecrets } from '../src/runtime/secrets.ts';
import { engineDeps } from '../src/runtime/engine.ts';

/**
 * Agency-events queue consumer: one record = one agency event. A rejected event is kept in the
 * quarantine and counts as processed; only infrastructure failures are reported as batch item
 * failures, so SQS redelivers just those.
 */
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const line = record.messageAttributes?.line?.stringValue;
  const outcome = await ingestRaw(engineDeps(), record.body, {
    deliveryKey: record.messageId,
    ...(line ? { line: Number(line) } : {}),
  });
  if (outcome.status === 'rejected')
    logger.warn('event rejected', { eventId: outcome.eventId, reason: outcome.reason });
  else logger.info('event processed', { ...outcome });
};

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  await primeSecrets();
  return processPartialResponse(event, recordHandler, processor, { context });
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
