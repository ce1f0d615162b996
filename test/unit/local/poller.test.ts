import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type PollableQueue, type PolledMessage, pollOnce, retryBackoff } from '../../../src/local/poller.ts';

/** An in-memory queue with SQS's receive counting and visibility, plus a DLQ. */
function memoryQueue(bodies: string[]) {
  const messages = bodies.map((body, i) => ({
    id: `m${i}`,
    body,
    receives: 0,
    visible: true,
    deleted: false,
  }));
  const dlq: string[] = [];
  let handleSeq = 0;
  const handles = new Map<string, (typeof messages)[number]>();
  const queue: PollableQueue = {
    arn: 'arn:aws:sqs:local:000000000000:q',
    async receive(max) {
      const out: PolledMessage[] = [];
      for (const m of messages) {
        if (out.length >= max) break;
        if (m.deleted || !m.visible) continue;
        m.receives++;
        m.visible = false;
        const h = `h${++handleSeq}`;
        handles.set(h, m);
        out.push({
          messageId: m.id,
          receiptHandle: h,
          body: m.body,
          receiveCount: m.receives,
          sentTimestamp: 1,
          firstReceiveTimestamp: 1,
        });
      }
      return out;
    },
    async delete(hs) {
      for (const h of hs) handles.get(h)!.deleted = true;
    },
    async release(h) {
      handles.get(h)!.visible = true;
    },
    async deadLetter(m) {
      dlq.push(m.body);
      handles.get(m.receiptHandle)!.deleted = true;
    },
  };
  return { queue, messages, dlq };
}

describe('Function: pollOnce', () => {
  it('invokes the handler with a real SQSEvent and deletes what succeeded', async () => {
    // Prepare
    const { queue, messages } = memoryQueue(['a', 'b', 'c']);
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
    const { queue, messages } = memoryQueue(['ok', 'bad']);
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
    expect(bad.visible).toBe(true);
  });

  it('fails the whole batch when the handler throws', async () => {
    const { queue, messages } = memoryQueue(['x', 'y']);
    const r = await pollOnce(
      queue,
      async () => {
        throw new Error('boom');
      },
      { maxReceiveCount: 5 },
    );
    expect(r).toMatchObject({ received: 2, succeeded: 0, failed: 2 });
    expect(messages.every((m) => !m.deleted && m.visible)).toBe(true);
  });

  it('moves a message to the DLQ after maxReceiveCount receives', async () => {
    const { queue, dlq, messages } = memoryQueue(['poison', 'fine']);
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
    const { queue } = memoryQueue(['bad']);
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
    for (let i = 0; i < 4; i++)
      await pollOnce(spy, fail, { maxReceiveCount: 4, retryDelaySeconds: (n) => n * 1.5 });
    // 1.5, 3, 4.5 s rounded up to whole seconds (SQS's unit); the 4th receive was the last allowed.
    expect(released).toEqual([2, 3, 5, 0]);
    released.length = 0;
    const other = memoryQueue(['bad']);
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
