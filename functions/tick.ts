import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
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

/**
 * The opening of one scheduled time, at most once (Powertools idempotency keyed by the schedule's
 * `time`): Lambda retries an invocation whose digest failed, and the retry must not queue the whole
 * fan-out again. An invocation without `time` (a manual one) opens without a key.
 */
let idempotent:
  | { table: string; client: unknown; fn: (req: { time: string }) => Promise<Opened> }
  | undefined;
type Opened = { segments: number; subjects: number };
const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'time', expiresAfterSeconds: 7 * 86400 });

function openOnce(): (req: { time: string }) => Promise<Opened> {
  const table = runtimeConfig().table('idempotency');
  const client = dynamoClient();
  if (idempotent?.table !== table || idempotent.client !== client) {
    const fn = makeIdempotent(async (req: { time: string }) => openPeriods(new Date(req.time)), {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: client }),
      config: idempotencyConfig,
    });
    idempotent = { table, client, fn };
  }
  return idempotent.fn;
}

const lambdaHandler = async (event: { time?: string }, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  // The periods open first: a digest that cannot be written must not keep a month from opening.
  const opened = event.time
    ? await openOnce()({ time: event.time })
    : await openPeriods(runtimeClock().now());
  // Each period opening also anchors the ledger: the chain heads go to the Object Lock bucket. The
  // digest is dated by the wall clock, not the scheduled time: a retried or late invocation must
  // not date a digest before one written since (the digests form one chain in time). A failure
  // here fails the invocation (and raises the function-errors alarm); the retry finds the opening
  // done and only writes the digest again.
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
