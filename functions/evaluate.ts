import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../src/adapters/observability.ts';
import { reevaluateSubject } from '../src/domain/engine/ingest.ts';
import { engineDeps } from '../src/runtime/engine.ts';

/**
 * Evaluations queue consumer: one record = one subject whose facts changed. Evaluates the subject's
 * trigger periods on its stored facts and commits new grants (decision + ledger + outbox in one
 * transaction) or eligibility-changed flags, then relays the notifications. Repeated requests for a
 * subject are harmless: a grant is made at most once.
 */
const request = z.strictObject({ subject: z.string().regex(/^ps_[0-9a-f]{32}$/) });

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  // Per-invocation state lives here, not at module level: the local poller may run several
  // invocations of this module at once, which Lambda never does in one environment.
  const processor = new BatchProcessor(EventType.SQS);
  // A subject asked for twice in one batch is evaluated once.
  const running = new Map<string, Promise<number>>();
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const { subject } = request.parse(JSON.parse(record.body));
    // A redelivered request may follow a run that committed but did not relay its notifications.
    const relayPending = Number(record.attributes.ApproximateReceiveCount ?? '1') > 1;
    let evaluation = running.get(subject);
    if (!evaluation) {
      evaluation = reevaluateSubject(engineDeps(), subject, undefined, { relayPending });
      running.set(subject, evaluation);
    }
    logger.debug('subject evaluated', { subject, grants: await evaluation });
  };
  const response = await processPartialResponse(event, recordHandler, processor, { context });
  let grants = 0;
  for (const [, e] of running) grants += await e.catch(() => 0);
  logger.info('batch evaluated', {
    records: event.Records.length,
    subjects: running.size,
    grants,
    failed: response.batchItemFailures.length,
  });
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
