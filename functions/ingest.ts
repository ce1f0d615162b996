import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsClient } from '../src/adapters/aws.ts';
import { logger, logRecordFailures, metrics } from '../src/adapters/observability.ts';
import { queueUrl, sendBatch } from '../src/adapters/sqs/relay.ts';
import { recordBudgetMs } from '../src/domain/engine/budget.ts';
import { ingestBatch } from '../src/domain/engine/ingest.ts';
import { primeSecrets } from '../src/runtime/secrets.ts';
import { engineDeps, runtimeConfig } from '../src/runtime/engine.ts';

/**
 * Agency-events queue consumer: one record = one agency event. A rejected event is kept in the
 * quarantine and counts as processed; only infrastructure failures are reported as batch item
 * failures, so SQS redelivers just those. Subjects whose facts were committed (or were already,
 * for a redelivered event) are sent to the evaluations queue once per batch.
 */
const lambdaHandler = async (event: SQSEvent, context: Context) => {
  await primeSecrets();
  // Per-invocation state lives here, not at module level: the local poller may run several
  // invocations of this module at once, which Lambda never does in one environment.
  // The whole batch is ingested together (one read of its profiles and receipts); the batch
  // processor then reports each record's own outcome, so only failed records are redelivered.
  // The records get part of the invocation's time: one slow subject (a throttled key) fails its
  // own records when time runs out, not the whole batch through a function timeout.
  const outcomes = await ingestBatch(
    engineDeps(),
    event.Records.map((r) => {
      const line = r.messageAttributes?.line?.stringValue;
      return { raw: r.body, meta: { deliveryKey: r.messageId, ...(line ? { line: Number(line) } : {}) } };
    }),
    { budgetMs: recordBudgetMs(context.getRemainingTimeInMillis()) },
  );
  const byMessage = new Map(event.Records.map((r, i) => [r.messageId, outcomes[i]!]));
  const toEvaluate = new Set<string>();
  let rejected = 0;
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const outcome = byMessage.get(record.messageId)!;
      if (outcome instanceof Error) throw outcome;
      if (outcome.status === 'rejected') {
        rejected += 1;
        logger.warn('event rejected', { eventId: outcome.eventId, reason: outcome.reason });
        return;
      }
      // A first delivery whose facts were known already changes nothing to evaluate. A redelivery
      // asks again: the first delivery may have stopped before asking.
      if (outcome.factsChanged || outcome.status === 'duplicate') toEvaluate.add(outcome.subject);
      logger.debug('event processed', { ...outcome });
    },
    processor,
    { context },
  );
  logRecordFailures(processor, 'agency-events');
  // Rejections are kept in the quarantine and count as processed: the metric (and its alarm) is how
  // an operator hears that an agency's events stopped fitting the contract.
  metrics.addMetric('EventsRejected', MetricUnit.Count, rejected);
  metrics.addMetric('RecordsFailed', MetricUnit.Count, response.batchItemFailures.length);
  // If this send fails the whole batch fails and is redelivered: the events are then duplicates,
  // whose subjects are sent again, so no evaluation is lost.
  const subjects = [...toEvaluate];
  if (subjects.length > 0) {
    const sqs = sqsClient();
    // One request names up to ten subjects: a batch of events asks for its evaluations with one
    // message, and the evaluate function reads a whole batch of requests' profiles at once.
    const requests: string[] = [];
    for (let i = 0; i < subjects.length; i += 10)
      requests.push(JSON.stringify({ subjects: subjects.slice(i, i + 10) }));
    await sendBatch(sqs, await queueUrl(sqs, runtimeConfig(), 'evaluations'), requests);
  }
  // One line per batch (log ingestion is billed by the byte); per-event lines are debug.
  logger.info('batch processed', {
    records: event.Records.length,
    failed: response.batchItemFailures.length,
    subjects: subjects.length,
  });
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
