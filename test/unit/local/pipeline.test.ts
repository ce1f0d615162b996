import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type Consumers, drainPollables } from '../../../src/local/pipeline.ts';
import type { PollableQueue, SqsHandler } from '../../../src/local/poller.ts';
import { Clock, memoryQueue } from './memory-queue.ts';
import type { QueueId } from '../../../src/resources.ts';

const ok = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
const failing =
  (fails: (body: string) => boolean): SqsHandler =>
  async (event: SQSEvent) => ({
    batchItemFailures: event.Records.filter((r) => fails(r.body)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Function: drainQueues (drainPollables)', () => {
  it('runs its pollers free: a slow invocation holds up only its own poller', async () => {
    // Prepare: 50 messages, two pollers (one environment each). Environment 0's first invocation
    // blocks until environment 1 has handled four batches (or, failing that, 2 s have passed).
    const clock = new Clock();
    const q = memoryQueue(clock);
    for (let i = 0; i < 50; i++) q.send(`e${i}`);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const fallback = setTimeout(() => release(), 2000);
    let slowBatches = 0;
    let fastBatches = 0;
    const slow: SqsHandler = async () => {
      const n = ++slowBatches;
      order.push(`slow${n}:start`);
      if (n === 1) await gate;
      order.push(`slow${n}:end`);
      return { batchItemFailures: [] };
    };
    const fast: SqsHandler = async () => {
      const n = ++fastBatches;
      await tick();
      order.push(`fast${n}`);
      if (n === 4) release();
      return { batchItemFailures: [] };
    };
    // Act
    const totals = await drainPollables(
      new Map([['agencyEvents', q.queue]]),
      [{ agencyEvents: slow }, { agencyEvents: fast }],
      { concurrency: 2, idleMs: 1, retryDelaySeconds: 0 },
    );
    clearTimeout(fallback);
    // Assess: the fast poller handled the other four batches while the slow one was busy.
    expect(order.slice(0, 1)).toEqual(['slow1:start']);
    expect(order.indexOf('fast4')).toBeLessThan(order.indexOf('slow1:end'));
    expect(fastBatches).toBe(4);
    expect(slowBatches).toBe(1);
    expect(totals.perQueue.agencyEvents).toEqual({ received: 50, succeeded: 50, failed: 0, deadLettered: 0 });
    expect(q.messages.every((m) => m.deleted)).toBe(true);
  });

  it('gives poller i environment i % n: no environment runs two invocations at once', async () => {
    const clock = new Clock();
    const q = memoryQueue(clock);
    for (let i = 0; i < 95; i++) q.send(`e${i}`);
    const running = [0, 0, 0];
    const most = [0, 0, 0];
    const used = [0, 0, 0];
    const env = (k: number): Consumers => ({
      agencyEvents: async () => {
        running[k]!++;
        used[k]!++;
        most[k] = Math.max(most[k]!, running[k]!);
        await tick();
        await tick();
        running[k]!--;
        return { batchItemFailures: [] };
      },
    });
    await drainPollables(new Map([['agencyEvents', q.queue]]), [env(0), env(1), env(2)], {
      concurrency: 3,
      idleMs: 1,
    });
    expect(most).toEqual([1, 1, 1]);
    expect(used.every((n) => n > 0)).toBe(true);
    expect(used.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('keeps a failed message invisible for its retry delay before receiving it again', async () => {
    // Prepare: one message fails on its first receive; the queue's delay is 2 s.
    const clock = new Clock();
    const q = memoryQueue(clock);
    q.send('flaky');
    q.send('fine');
    let failures = 0;
    const handler: SqsHandler = failing((b) => b === 'flaky' && failures++ === 0);
    // Act
    const totals = await drainPollables(
      new Map([['agencyEvents', q.queue]]),
      { agencyEvents: handler },
      {
        concurrency: 2,
        idleMs: 1,
        retryDelaySeconds: { agencyEvents: 2 },
      },
    );
    // Assess: received twice, the second time no sooner than 2 s (virtual) after the failure.
    const receipts = q.receivedAt.filter((r) => r.body === 'flaky');
    expect(receipts.map((r) => r.count)).toEqual([1, 2]);
    expect(receipts[1]!.at - receipts[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(q.releases).toEqual([{ body: 'flaky', seconds: 2 }]);
    expect(totals.perQueue.agencyEvents).toMatchObject({ received: 3, succeeded: 2, failed: 1 });
    expect(q.messages.every((m) => m.deleted)).toBe(true);
  });

  it('backs off 1, 2, 4 s by default and releases at once after the last allowed receive', async () => {
    const clock = new Clock();
    const q = memoryQueue(clock, 4);
    q.send('poison');
    const totals = await drainPollables(
      new Map([['agencyEvents', q.queue]]),
      { agencyEvents: failing(() => true) },
      { concurrency: 1, idleMs: 1 },
    );
    expect(q.releases.map((r) => r.seconds)).toEqual([1, 2, 4, 0]);
    const at = q.receivedAt.map((r) => r.at);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2000);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(4000);
    expect(q.dlq).toEqual(['poison']);
    expect(totals.perQueue.agencyEvents).toMatchObject({ failed: 4, deadLettered: 1 });
  });

  it('drains the queues in stages, each until empty (delayed retries included), then again from the first', async () => {
    // Prepare: each agency event queues an evaluation; one agency event fails once (retried after
    // 1 s); one evaluation queues a notification and one a late agency event.
    const clock = new Clock();
    const agency = memoryQueue(clock);
    const evaluations = memoryQueue(clock);
    const notifications = memoryQueue(clock);
    for (let i = 0; i < 25; i++) agency.send(`a${i}`);
    const log: string[] = [];
    let failedOnce = false;
    const consumers: Partial<Record<QueueId, SqsHandler>> = {
      agencyEvents: async (event) => {
        const failures: string[] = [];
        for (const r of event.Records) {
          if (r.body === 'a7' && !failedOnce) {
            failedOnce = true;
            failures.push(r.messageId);
            continue;
          }
          log.push(`ingest ${r.body}`);
          evaluations.send(`eval ${r.body}`);
        }
        return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
      },
      evaluations: async (event) => {
        for (const r of event.Records) {
          log.push(r.body);
          if (r.body === 'eval a3') notifications.send('note a3');
          if (r.body === 'eval a4') agency.send('late');
        }
        return { batchItemFailures: [] };
      },
      notifications: async (event) => {
        for (const r of event.Records) log.push(r.body);
        return { batchItemFailures: [] };
      },
    };
    // Act
    await drainPollables(
      new Map([
        ['agencyEvents', agency.queue],
        ['evaluations', evaluations.queue],
        ['notifications', notifications.queue],
      ]),
      consumers,
      { concurrency: 3, idleMs: 1, retryDelaySeconds: 1 },
    );
    // Assess: every ingest (the retried a7 too) before any evaluation, evaluations before the
    // notification, and the late event (fed back by an evaluation) drained on the next pass.
    const firstEval = log.findIndex((l) => l.startsWith('eval '));
    const ingests = log.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('ingest a'));
    expect(ingests).toHaveLength(25);
    expect(ingests.every(([, i]) => i < firstEval)).toBe(true);
    expect(log.indexOf('note a3')).toBeGreaterThan(log.lastIndexOf('eval a24'));
    expect(log.indexOf('ingest late')).toBeGreaterThan(log.indexOf('note a3'));
    expect(log.at(-1)).toBe('eval late');
    for (const q of [agency, evaluations, notifications])
      expect(q.messages.every((m) => m.deleted)).toBe(true);
  });

  it('throws a one-line error when the drain does not finish in time', async () => {
    const clock = new Clock();
    const q = memoryQueue(clock, Number.MAX_SAFE_INTEGER);
    q.send('always-fails');
    const err = await drainPollables(
      new Map([['agencyEvents', q.queue]]),
      { agencyEvents: failing(() => true) },
      { concurrency: 2, idleMs: 1, retryDelaySeconds: 0, timeoutMs: 50 },
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('drain did not finish within 50 ms; messages left: agencyEvents 1');
  });

  it('gives up at the time limit even while an invocation hangs', async () => {
    const clock = new Clock();
    const q = memoryQueue(clock);
    q.send('hangs');
    let invocations = 0;
    const hang: SqsHandler = () => {
      invocations++;
      return new Promise(() => undefined);
    };
    await expect(
      drainPollables(
        new Map([['agencyEvents', q.queue]]),
        { agencyEvents: hang },
        {
          concurrency: 1,
          idleMs: 1,
          timeoutMs: 30,
        },
      ),
    ).rejects.toThrow(/^drain did not finish within 30 ms; messages left: agencyEvents 1$/);
    expect(invocations).toBe(1);
  });

  it('stops the other pollers and rethrows when a poll fails', async () => {
    const clock = new Clock();
    const q = memoryQueue(clock);
    for (let i = 0; i < 40; i++) q.send(`e${i}`);
    const broken: PollableQueue = {
      ...q.queue.pollable,
      async delete() {
        throw new Error('delete failed');
      },
    };
    await expect(
      drainPollables(
        new Map([['agencyEvents', { ...q.queue, pollable: broken }]]),
        { agencyEvents: ok },
        {
          concurrency: 2,
          idleMs: 1,
        },
      ),
    ).rejects.toThrow('delete failed');
  });
});
