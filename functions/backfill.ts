import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { docClient, sqsClient } from '../src/adapters/aws.ts';
import { DynamoProfileScanner } from '../src/adapters/dynamodb/profile-scanner.ts';
import { logger, logRecordFailures, metrics } from '../src/adapters/observability.ts';
import { queueUrl, sendBatch } from '../src/adapters/sqs/relay.ts';
import { type BackfillJob, runBackfill } from '../src/domain/engine/backfill.ts';
import { engineDeps, runtimeConfig } from '../src/runtime/engine.ts';

/**
 * Backfill queue consumer: one message = one scan segment of the profiles table to evaluate (period
 * opening or a newly published policy). Resumable: when time runs short it queues the rest of its
 * segment and returns; re-running a segment is harmless because grants are exactly-once.
 */

const jobSchema = z.strictObject({
  job: z.enum(['period-open', 'publish']),
  at: z.iso.datetime({ offset: true }),
  policy: z.string().min(1).max(100).optional(),
  segment: z.number().int().nonnegative(),
  totalSegments: z.number().int().positive().max(1000),
  startKey: z.record(z.string(), z.unknown()).optional(),
  done: z.number().int().nonnegative().optional(),
});

const handleRecord = async (record: SQSRecord, context: Context): Promise<void> => {
  const job = jobSchema.parse(JSON.parse(record.body)) as BackfillJob;
  const cfg = runtimeConfig();
  const result = await runBackfill(engineDeps(), new DynamoProfileScanner(docClient(), cfg), job, {
    timeLeft: () => context.getRemainingTimeInMillis(),
    onProgress: (done) =>
      logger.info('backfill progress', {
        job: job.job,
        policy: job.policy,
        segment: job.segment,
        of: job.totalSegments,
        done,
      }),
  });
  metrics.addMetric('BackfillSubjects', MetricUnit.Count, result.subjects);
  metrics.addMetric('BackfillGrants', MetricUnit.Count, result.grants);
  if (result.continuation) {
    await sendBatch(sqsClient(), await queueUrl(sqsClient(), cfg, 'backfill'), [
      JSON.stringify(result.continuation),
    ]);
  }
  logger.info('backfill segment finished', {
    segment: job.segment,
    subjects: result.subjects,
    grants: result.grants,
    continued: Boolean(result.continuation),
  });
};

const lambdaHandler = async (event: SQSEvent, ctx: Context) => {
  // Per-invocation state: the local poller may run several invocations of this module at once.
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(event, (r: SQSRecord) => handleRecord(r, ctx), processor, {
    context: ctx,
  });
  logRecordFailures(processor, 'backfill');
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
