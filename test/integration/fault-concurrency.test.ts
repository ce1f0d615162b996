import { readFileSync } from 'node:fs';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { pseudonymise } from '../../src/domain/pseudonym.ts';
import { localContext } from '../../src/local/poller.ts';
import { installInjector } from '../../src/testing/sweep.ts';
import { useTestEngine } from './helpers.ts';

const demo = readFileSync('events/samples/demo.jsonl', 'utf8')
  .split('\n')
  .filter((l) => l.trim());

const record = (body: string, id: string): SQSRecord => ({
  messageId: id,
  receiptHandle: id,
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:cn-north-1:000000000000:agency-events',
  awsRegion: 'cn-north-1',
});

const NOW = '2026-03-15T10:00:00+08:00';
/** The enterprise of demo line 15, pseudonymised as the test engines do. */
const ENTERPRISE = pseudonymise(Buffer.from('7'.repeat(64), 'hex'), '91110105000056GKMD');
/** A batch whose first record is about that enterprise and the other four about other subjects. */
const enterpriseFirst = (prefix: string): SQSRecord[] =>
  [demo[14]!, ...demo.slice(0, 4)].map((b, i) => record(b, `${prefix}${i}`));

describe('Local runtime: two invocations of one handler module at once (npm start, pb replay, drainQueues with concurrency > 1)', () => {
  it('reports each failed record in its own invocation, so the poller neither deletes it nor redelivers others', async () => {
    // Prepare: one enterprise's requests fail (a network error before sending), so invocation A's
    // first record fails at once; invocation B starts a moment later, as a second poller does.
    const engine = await useTestEngine('concurrent', NOW);
    const injector = installInjector();
    injector.arm([
      {
        layer: 'call',
        point: 'before',
        error: 'network',
        when: (c) => JSON.stringify(c.input).includes(ENTERPRISE),
      },
    ]);
    const handler = engine.consumers.agencyEvents!;
    const a = enterpriseFirst('a');
    const b = demo.slice(4, 9).map((body, i) => record(body, `b${i}`));
    // Act
    const [ra, rb] = await Promise.all([
      handler({ Records: a }, localContext('ingest')),
      new Promise((r) => setTimeout(r, 5)).then(() => handler({ Records: b }, localContext('ingest'))),
    ]);
    injector.disarm();
    // Assess: the failed record is A's to report (else the poller deletes it: the event is lost),
    // and B reports none of A's. The fault fired on A's batch read, then on the failing
    // subject's own read (the batch falls back to reading per record).
    expect(injector.stats.fired).toBe(2);
    expect(ra).toEqual({ batchItemFailures: [{ itemIdentifier: 'a0' }] });
    expect(rb).toEqual({ batchItemFailures: [] });
  });

  it('answers within the function timeout when one subject’s commit is throttled on every attempt, and that commit stops with the answer', async () => {
    // Prepare: every attempt to write one enterprise's profile is throttled (a hot key); the SDK
    // backs off for up to 1 + 2 + 4 s, longer than this invocation's 1.5 s.
    const engine = await useTestEngine('budget', NOW);
    const injector = installInjector();
    injector.arm([
      {
        layer: 'attempt',
        point: 'before',
        error: 'capacity',
        attempts: Number.POSITIVE_INFINITY,
        // The profile put of the hot subject (the receipt put names it too, and is let through).
        when: (c) => {
          const input = JSON.stringify(c.input);
          return c.operation === 'PutItem' && input.includes('-profiles"') && input.includes(ENTERPRISE);
        },
      },
    ]);
    const handler = engine.consumers.agencyEvents!;
    const records = enterpriseFirst('r');
    // Act
    const started = Date.now();
    const result = await handler({ Records: records }, localContext('ingest', 1_500));
    const took = Date.now() - started;
    const firedAtAnswer = injector.stats.fired;
    await new Promise((r) => setTimeout(r, 4_000));
    const firedLater = injector.stats.fired;
    injector.disarm();
    // Assess: in time, only the hot subject's record failed, and its write was not attempted again
    // after the answer (the budget's signal aborted the SDK's retries).
    expect(took).toBeLessThan(1_500);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'r0' }] });
    expect(firedAtAnswer).toBeGreaterThan(0);
    expect(firedLater).toBe(firedAtAnswer);
  });
});
