import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { docClient, dynamoClient, sqsClient } from '../src/adapters/aws.ts';
import { digestStore, writeDigest } from '../src/adapters/ledger-store.ts';
import { logger } from '../src/adapters/observability.ts';
import { queueUrl, sendBatch } from '../src/adapters/sqs/relay.ts';
import { backfillJobs } from '../src/domain/engine/backfill.ts';
import { systemClock } from '../src/clock.ts';
import { runtimeClock, runtimeConfig } from '../src/runtime/engine.ts';

/** Subjects per scan segment we aim for: a segment should finish well within one invocation. */
const SUBJECTS_PER_SEGMENT = 20_000;

/**
 * Scheduled period opening (政策找人): fans the evaluation of every stored subject out over
 * parallel-scan segments, one backfill message each. `time` of the schedule event is the clock.
 */
export async function openPeriods(at: Date): Promise<{ segments: number; subjects: number }> {
  const cfg = runtimeConfig();
  const table = await dynamoClient().send(new DescribeTableCommand({ TableName: cfg.table('profiles') }));
  const subjects = table.Table?.ItemCount ?? 0;
  const segments = Math.min(1000, Math.max(1, Math.ceil(subjects / SUBJECTS_PER_SEGMENT)));
  const jobs = backfillJobs({ job: 'period-open', at: at.toISOString() }, segments);
  await sendBatch(
    sqsClient(),
    await queueUrl(sqsClient(), cfg, 'backfill'),
    jobs.map((j) => JSON.stringify(j)),
  );
  logger.info('periods opened', { at: at.toISOString(), segments, subjects });
  return { segments, subjects };
}

const lambdaHandler = async (event: { time?: string }) => {
  const at = event.time ? new Date(event.time) : runtimeClock().now();
  // The periods open first: a digest that cannot be written must not keep a month from opening.
  const opened = await openPeriods(at);
  // Each period opening also anchors the ledger: the chain heads go to the Object Lock bucket. The
  // digest is dated by the wall clock, not the scheduled time: a retried or late invocation must
  // not date a digest before one written since (the digests form one chain in time). A failure
  // here fails the invocation (and raises the function-errors alarm); the retry opens again, which
  // grants nothing twice.
  const digest = await writeDigest(
    docClient(),
    runtimeConfig(),
    digestStore(runtimeConfig()),
    systemClock.now(),
  );
  logger.info('ledger digest written', { chains: digest.heads.length, digestHash: digest.digestHash });
  return opened;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
