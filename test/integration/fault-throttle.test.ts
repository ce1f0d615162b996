import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '../../src/cli/commands/quarantine.ts';
import type { Io } from '../../src/cli/io.ts';
import { fixedClock } from '../../src/clock.ts';
import { pseudonymise } from '../../src/domain/pseudonym.ts';
import { runtimeConfig, setClock } from '../../src/runtime/engine.ts';
import type { CallInfo, Fault } from '../../src/testing/faults.ts';
import { cleanClients, compareStates, type EngineState, outcomeList } from '../../src/testing/harness.ts';
import {
  BATCH_TIMING,
  batchEnvironments,
  drainWithFaults,
  installInjector,
  runWithFaults,
  type SweepContext,
  wrapConsumer,
} from '../../src/testing/sweep.ts';
import { expectedOutcomes } from './expected.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());
const NOW = '2026-03-15T10:00:00+08:00';
const KEY = Buffer.from('7'.repeat(64), 'hex');

function captureIo() {
  const out: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => out.push(l), progress: () => undefined };
  return { io, out };
}

describe('Throttling: ThrottlingException and ProvisionedThroughputExceededException', () => {
  let ctx: SweepContext;
  let baseline: EngineState;

  beforeAll(async () => {
    const engine = await useTestEngine('throttle', NOW);
    ctx = {
      slice: engine,
      clients: cleanClients(),
      cfg: runtimeConfig(),
      injector: installInjector(),
      bodies: demo,
    };
    baseline = (await runWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 }))
      .state;
    expect(baseline.problems).toEqual([]);
    // The reference is itself right: what an independent fold of the stream gives.
    expect(baseline.outcomes).toEqual(outcomeList(await expectedOutcomes(demo, NOW, '7'.repeat(64))));
  });
  afterAll(() => ctx?.clients.destroy());

  it('retries throttled requests with backoff, redelivers what the SDK gave up on, and dead-letters nothing', async () => {
    // Prepare: a quarter of all requests throttled once or twice (the SDK retries them), and one
    // DynamoDB call in ten throttled on every attempt (the SDK gives up; SQS redelivers).
    const faults: Fault[] = [
      { layer: 'attempt', point: 'before', error: 'throttle', rate: 0.25, attempts: 2 },
      {
        layer: 'attempt',
        point: 'before',
        error: 'capacity',
        rate: 0.1,
        attempts: Number.POSITIVE_INFINITY,
        when: (c) => c.service === 'dynamodb',
      },
    ];
    // Act: real batches, two pollers per queue.
    const run = await runWithFaults(ctx, faults, {
      consumers: await batchEnvironments(2),
      concurrency: 2,
      seed: 7,
    });
    // Assess
    expect(run.stats.fired).toBeGreaterThan(10);
    expect(run.stats.retries).toBeGreaterThan(10);
    const redelivered = Object.values(run.totals.perQueue).reduce((n, t) => n + (t?.failed ?? 0), 0);
    expect(redelivered).toBeGreaterThan(0);
    expect(compareStates(baseline, run.state)).toEqual([]);
    expect(run.state.queues['agencyEvents-dlq']).toBe(0);
    expect(run.state.queues['notifications-dlq']).toBe(0);
  });

  it('dead-letters a persistently throttled subject after 5 receives, and nothing else; redrive after the fault is gone converges', async () => {
    // Prepare: every request about one person fails with ProvisionedThroughputExceeded (a hot
    // partition), on every attempt.
    const raw = '110102197809030577';
    const subject = pseudonymise(KEY, raw);
    const about = (c: CallInfo) => JSON.stringify(c.input).includes(subject);
    const events = demo.filter((b) => b.includes(raw)).length;
    expect(events).toBe(3);
    const receives = new Map<string, number>();
    const wholeBatchFailures: string[] = [];
    // An ingest function timeout of 3 s is shorter than the SDK's backoff on a batch holding two or
    // three of the subject's events (each call retried for up to 1 + 2 + 4 s): the batch's other
    // events must still be done and deleted, not fail with it on each receive and be dead-lettered
    // too. (The other functions keep the usual 10 s.)
    const shortIngest = await batchEnvironments(2, { ...BATCH_TIMING, functionTimeoutMs: 3_000 });
    const envs = (await batchEnvironments(2)).map((env, i) => ({
      ...env,
      agencyEvents: shortIngest[i]!.agencyEvents,
    }));
    const counting = wrapConsumer(envs, 'agencyEvents', (ingest) => async (event, context) => {
      for (const r of event.Records)
        if (r.body.includes(raw)) receives.set(r.messageId, (receives.get(r.messageId) ?? 0) + 1);
      try {
        return await ingest(event, context);
      } catch (e) {
        // The whole batch failed: every record of it is received again. Fine when every record
        // is about the throttled subject (Powertools' FullBatchFailureError), not otherwise.
        const others = event.Records.filter((r) => !r.body.includes(raw)).length;
        if (others > 0) wholeBatchFailures.push(`${(e as Error).name}: ${others} other records`);
        throw e;
      }
    });
    // Act
    const run = await runWithFaults(
      ctx,
      [
        {
          layer: 'attempt',
          point: 'before',
          error: 'capacity',
          attempts: Number.POSITIVE_INFINITY,
          when: about,
        },
      ],
      // One subject's few messages: the SDK's retry quota lasts, so receives may come quickly.
      {
        consumers: counting,
        concurrency: 2,
        timing: { ...BATCH_TIMING, redeliverySeconds: { agencyEvents: 1, notifications: 10 } },
      },
    );
    // Assess: the subject's events are in the DLQ, each after exactly maxReceiveCount receives;
    // everyone else's grants went through.
    expect(wholeBatchFailures).toEqual([]);
    expect(run.state.queues['agencyEvents-dlq']).toBe(events);
    expect([...receives.values()]).toEqual(Array(events).fill(5));
    const others = (s: EngineState) => s.outcomes.filter((o) => !o.startsWith(subject));
    expect(others(run.state)).toEqual(others(baseline));
    expect(run.state.outcomes.filter((o) => o.startsWith(subject))).toEqual([]);
    expect(baseline.outcomes.filter((o) => o.startsWith(subject)).length).toBeGreaterThan(0);

    // Act: the fault is gone; the operator redrives the DLQ and the consumers run again.
    const moved = captureIo();
    expect(await redrive(['--queue', 'agency-events'], moved.io)).toBe(0);
    expect(moved.out.at(-1)).toBe(`${events} dead-lettered messages moved back to agency-events`);
    // The command re-read the environment: the engine's clients and clock are set up again.
    setClock(fixedClock(NOW));
    installInjector(ctx.injector);
    const after = await drainWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 });
    // Assess: the same state as without the fault.
    expect(compareStates(baseline, after.state)).toEqual([]);
  });
});
