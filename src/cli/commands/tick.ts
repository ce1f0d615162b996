import { join, resolve } from 'node:path';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { digestStore, writeDigest } from '../../adapters/ledger-store.ts';
import { sendBatch } from '../../adapters/sqs/relay.ts';
import { systemClock } from '../../clock.ts';
import { backfillJobs } from '../../domain/engine/backfill.ts';
import { dlqDepths, drainQueues } from '../../local/pipeline.ts';
import { openLocalEngine } from '../../local/session.ts';
import { runtimeConfig } from '../../runtime/engine.ts';
import { BackfillTally } from '../backfill-tally.ts';
import { type Command, parseOptions, required, UsageError, wholeNumber } from '../io.ts';
import { checkEngineRules, reportDeadLettered } from '../engine-rules.ts';
import { nowOption } from '../now.ts';

/**
 * `pb tick --now <ISO date-time> [--segments N]`: opens the periods containing `now` (the month for
 * monthly policies, the year for the childcare subsidy) for every stored subject, through the same
 * backfill queue and handler as the scheduled period opening in AWS. Running it twice grants nothing new.
 */
export const tick: Command = async (args, io) => {
  const { values } = parseOptions(args, { now: { type: 'string' }, segments: { type: 'string' } });
  const now = nowOption(required(values.now, 'now'), '2026-12-01T00:00:00+08:00');
  const segments = wholeNumber('segments', values.segments, 4, 1, 64);
  checkEngineRules();
  const engine = await openLocalEngine({
    now,
    persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb'),
  });
  if (!engine.local) {
    await engine.stop();
    throw new UsageError(
      `pb tick opens periods on the local stack; for the deployed stage ${runtimeConfig().prefix} invoke its tick function: aws lambda invoke --function-name ${runtimeConfig().prefix}-tick --cli-binary-format raw-in-base64-out --payload '{"time":"${now}"}' out.json`,
    );
  }
  const tally = new BackfillTally(io, 'tick');
  try {
    const jobs = backfillJobs({ job: 'period-open', at: new Date(now).toISOString() }, segments);
    await sendBatch(
      sqsClient(),
      engine.queues.backfill.url,
      jobs.map((j) => JSON.stringify(j)),
    );
    // Plays the backfill function's part here too, so the command reports what it granted.
    const dlqBefore = await dlqDepths(sqsClient(), engine.queues);
    await drainQueues(engine.queues, engine.consumers);
    io.progress('');
    const lost = reportDeadLettered(
      io,
      'tick',
      dlqBefore,
      await dlqDepths(sqsClient(), engine.queues),
      engine.started,
    );
    // The digest is dated by the wall clock, not by --now: digests form a chain in time, and a tick
    // run for another date must not date one ahead of (or behind) the others.
    await writeDigest(docClient(), runtimeConfig(), digestStore(runtimeConfig()), systemClock.now());
    io.out(`periods opened at ${now}: subjects: ${tally.subjects}, ${tally.summary(jobs.length)}`);
    return lost > 0 ? 1 : 0;
  } finally {
    tally.close();
    await engine.stop();
  }
};
