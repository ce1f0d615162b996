import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { logger, logRecordFailures } from '../src/adapters/observability.ts';
import { recordBudgetMs } from '../src/domain/engine/budget.ts';
import { reevaluateSubjects } from '../src/domain/engine/ingest.ts';
import { engineDeps } from '../src/runtime/engine.ts';

/**
 * Evaluations queue consumer: one record names subjects whose facts changed (`{"subjects": [...]}`,
 * up to 25; `{"subject": ...}` also accepted). Evaluates each subject's trigger periods on its
 * stored facts and commits new grants (decision + ledger + outbox in one transaction) or
 * eligibility-changed flags, then relays the notifications. Repeated requests for a subject are
 * harmless: a grant is made at most once. A record fails when one of its subjects failed; its
 * redelivery evaluates them all again, which changes nothing for those that succeeded.
 */
const subjectId = z.string().regex(/^ps_[0-9a-f]{32}$/);
const request = z.union([
  z.strictObject({ subject: subjectId }).transform((r) => [r.subject]),
  z.strictObject({ subjects: z.array(subjectId).min(1).max(25) }).transform((r) => r.subjects),
]);

const lambdaHandler = async (event: SQSEvent, context: Context) => {
  // Per-invocation state lives here, not at module level: the local poller may run several
  // invocations of this module at once, which Lambda never does in one environment.
  // A subject asked for twice in one batch is evaluated once; all of the batch's profiles are read
  // with one request. A redelivered request may follow a run that committed but did not relay its
  // notifications: such subjects relay pending outbox rows first.
  const subjects = new Map<string, boolean>();
  const named = new Map<string, string[]>();
  const invalid = new Map<string, Error>();
  for (const r of event.Records) {
    try {
      const list = request.parse(JSON.parse(r.body));
      const redelivered = Number(r.attributes.ApproximateReceiveCount ?? '1') > 1;
      for (const subject of list) subjects.set(subject, (subjects.get(subject) ?? false) || redelivered);
      named.set(r.messageId, list);
    } catch (e) {
      invalid.set(r.messageId, e instanceof Error ? e : new Error(String(e)));
    }
  }
  const order = [...subjects.keys()];
  const results = await reevaluateSubjects(
    engineDeps(),
    order.map((subject) => ({ subject, relayPending: subjects.get(subject)! })),
    // One slow subject fails its own requests when time runs out, not the whole batch.
    { budgetMs: recordBudgetMs(context.getRemainingTimeInMillis()) },
  );
  const bySubject = new Map(order.map((s, i) => [s, results[i]!]));
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const bad = invalid.get(record.messageId);
      if (bad) throw bad;
      for (const subject of named.get(record.messageId)!) {
        const result = bySubject.get(subject)!;
        if (result instanceof Error) throw result;
        logger.debug('subject evaluated', { subject, grants: result });
      }
    },
    processor,
    { context },
  );
  logRecordFailures(processor, 'evaluations');
  let grants = 0;
  for (const r of results) if (typeof r === 'number') grants += r;
  logger.info('batch evaluated', {
    records: event.Records.length,
    subjects: subjects.size,
    grants,
    failed: response.batchItemFailures.length,
  });
  return response;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
