import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsClient } from '../src/adapters/aws.ts';
import { logger } from '../src/adapters/observability.ts';
import { queueUrl, sendBatch } from '../src/adapters/sqs/relay.ts';
import { ingestRaw } from '../src/domain/engine/ingest.ts';
import { primeSecrets } from '../src/runtime/secrets.ts';
import { engineDeps, runtimeConfig } from '../src/runtime/engine.ts';

/**
 * Agency-events queue consumer: one record = one agency event. A rejected event is kept in the
 * quarantine and counts as processed; only infrastructure failures are reported as batch item
 * failures, so SQS redelivers just those. Subjects whose facts were committed (or were already,
 * for a redelivered event) are sent to the evaluations queue once per batch.
 */
/** Handles one record, adding the subject to the invocation's set of subjects to evaluate. */
const handleRecord = async (record: SQSRecord, toEvaluate: Set<string>): Promise<void> => {
  const line = record.messageAttributes?.line?.stringValue;
  const outcome = await ingestRaw(engineDeps(), record.body, {
    deliveryKey: record.messageId,
    ...(line ? { line: Number(line) } : {}),
  });
  if (outcome.status === 'rejected') {
    logger.warn('event rejected', { eventId: outcome.eventId, reason: outcome.reason });
    return;
  }
  toEvaluate.add(outcome.subject);
  logger.debug('event processed', { ...outcome });
};

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  await primeSecrets();
  // Per-invocation state lives here, not at module level: the local poller may run several
  // invocations of this module at once, which Lambda never does in one environment.
  const processor = new BatchProcessor(EventType.SQS);
  const toEvaluate = new Set<string>();
  const response = await processPartialResponse(
    event,
    (r: SQSRecord) => handleRecord(r, toEvaluate),
    processor,
    {
      context,
    },
  );
  // If this send fails the whole batch fails and is redelivered: the events are then duplicates,
  // whose subjects are sent again, so no evaluation is lost.
  const subjects = [...toEvaluate];
  if (subjects.length > 0) {
    const sqs = sqsClient();
    await sendBatch(
      sqs,
      await queueUrl(sqs, runtimeConfig(), 'evaluations'),
      subjects.map((s) => JSON.stringify({ subject: s })),
    );
  }
  // One line per batch (log ingestion is billed by the byte); per-event lines are debug.
  logger.info('batch processed', {
    records: event.Records.length,
    failed: response.batchItemFailures.length,
    subjects: subjects.length,
  });
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
