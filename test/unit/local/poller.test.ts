import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type PollableQueue, pollOnce, retryBackoff } from '../../../src/local/poller.ts';
import { Clock, memoryQueue } from './memory-queue.ts';

/** A queue of these bodies on a clock of its own. */
function queueOf(bodies: string[]) {
  const clock = new Clock();
  const q = memoryQueue(clock);
  for (const b of bodies) q.send(b);
  return { ...q, queue: q.pollable, clock };
}

describe('Function: pollOnce', () => {
  it('invokes the handler with a real SQSEvent and deletes what succeeded', async () => {
    // Prepare
    const { queue, messages } = queueOf(['a', 'b', 'c']);
    let seen: SQSEvent | undefined;
    // Act
    const r = await pollOnce(
      queue,
      async (event) => {
        seen = event;
        return { batchItemFailures: [] };
      },
      { maxReceiveCount: 5 },
    );
    // Assess
    expect(r).toEqual({ received: 3, succeeded: 3, failed: 0, deadLettered: 0 });
    expect(seen?.Records.map((x) => x.body)).toEqual(['a', 'b', 'c']);
    expect(seen?.Records[0]?.eventSource).toBe('aws:sqs');
    expect(seen?.Records[0]?.attributes.ApproximateReceiveCount).toBe('1');
    expect(messages.every((m) => m.deleted)).toBe(true);
  });

  it('leaves reported batch item failures for redelivery and deletes the rest', async () => {
    const { queue, messages, visible } = queueOf(['ok', 'bad']);
    const r = await pollOnce(
      queue,
      async (event) => ({
        batchItemFailures: event.Records.filter((x) => x.body === 'bad').map((x) => ({
          itemIdentifier: x.messageId,
        })),
      }),
      { maxReceiveCount: 5 },
    );
    expect(r.succeeded).toBe(1);
    expect(r.failed).toBe(1);
    expect(messages.find((m) => m.body === 'ok')?.deleted).toBe(true);
    const bad = messages.find((m) => m.body === 'bad')!;
    expect(bad.deleted).toBe(false);
    expect(visible(bad)).toBe(true);
  });

  it('fails the whole batch when the handler throws', async () => {
    const { queue, messages, visible } = queueOf(['x', 'y']);
    const r = await pollOnce(
      queue,
      async () => {
        throw new Error('boom');
      },
      { maxReceiveCount: 5 },
    );
    expect(r).toMatchObject({ received: 2, succeeded: 0, failed: 2 });
    expect(messages.every((m) => visible(m))).toBe(true);
  });

  it('moves a message to the DLQ after maxReceiveCount receives', async () => {
    const { queue, dlq, messages } = queueOf(['poison', 'fine']);
    const handler = async (event: SQSEvent) => ({
      batchItemFailures: event.Records.filter((x) => x.body === 'poison').map((x) => ({
        itemIdentifier: x.messageId,
      })),
    });
    let invocationsWithPoison = 0;
    for (let i = 0; i < 10; i++) {
      const r = await pollOnce(
        queue,
        async (event) => {
          if (event.Records.some((x) => x.body === 'poison')) invocationsWithPoison++;
          return handler(event);
        },
        { maxReceiveCount: 3 },
      );
      if (r.received === 0) break;
    }
    expect(invocationsWithPoison).toBe(3);
    expect(dlq).toEqual(['poison']);
    expect(messages.every((m) => m.deleted)).toBe(true);
  });

  it('releases a failed message for the retry delay of its receive count, at once after the last allowed receive', async () => {
    const { queue, clock } = queueOf(['bad']);
    const released: number[] = [];
    const spy: PollableQueue = {
      ...queue,
      async release(h, seconds) {
        released.push(seconds);
        await queue.release(h, seconds);
      },
    };
    const fail = async (event: SQSEvent) => ({
      batchItemFailures: event.Records.map((x) => ({ itemIdentifier: x.messageId })),
    });
    for (let i = 0; i < 4; i++) {
      await pollOnce(spy, fail, { maxReceiveCount: 4, retryDelaySeconds: (n) => n * 1.5 });
      clock.now += 10_000;
    }
    // 1.5, 3, 4.5 s rounded up to whole seconds (SQS's unit); the 4th receive was the last allowed.
    expect(released).toEqual([2, 3, 5, 0]);
    released.length = 0;
    const other = queueOf(['bad']);
    const record: PollableQueue['release'] = async (h, seconds) => {
      released.push(seconds);
      await other.queue.release(h, seconds);
    };
    await pollOnce({ ...other.queue, release: record }, fail, {
      maxReceiveCount: 4,
      retryDelaySeconds: 7,
    });
    expect(released).toEqual([7]);
  });

  it('backs off 1, 2, 4, 8 s by receive count, capped at 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(retryBackoff)).toEqual([1, 2, 4, 8, 10, 10, 10]);
  });
});
