/**
 * The in-memory SQS queue of the local-runtime unit tests (poller and pipeline): receive counting,
 * visibility on a virtual clock, receipt handles, and a DLQ.
 */
import type { DrainQueue } from '../../../src/local/pipeline.ts';
import type { PollableQueue, PolledMessage } from '../../../src/local/poller.ts';

/**
 * A virtual clock: it moves only when the drain checks a queue's depth (each check, 100 ms), so
 * retry delays are measured without waiting for them.
 */
export class Clock {
  now = 0;
}

/**
 * An in-memory queue with SQS's receive counting and visibility: a received message is in flight
 * until deleted or released; a released one becomes visible `seconds` later on the virtual clock.
 */
export function memoryQueue(clock: Clock = new Clock(), maxReceiveCount = 5) {
  interface Msg {
    id: string;
    body: string;
    receives: number;
    visibleAt: number;
    deleted: boolean;
  }
  const messages: Msg[] = [];
  const handles = new Map<string, Msg>();
  const receivedAt: Array<{ body: string; at: number; count: number }> = [];
  const releases: Array<{ body: string; seconds: number }> = [];
  const dlq: string[] = [];
  let seq = 0;
  const send = (body: string) =>
    messages.push({ id: `m${++seq}`, body, receives: 0, visibleAt: 0, deleted: false });
  const pollable: PollableQueue = {
    arn: 'arn:aws:sqs:local:000000000000:q',
    async receive(max) {
      const out: PolledMessage[] = [];
      for (const m of messages) {
        if (out.length >= max) break;
        if (m.deleted || m.visibleAt > clock.now) continue;
        m.receives++;
        m.visibleAt = Number.POSITIVE_INFINITY;
        const h = `h${++seq}`;
        handles.set(h, m);
        receivedAt.push({ body: m.body, at: clock.now, count: m.receives });
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
    async release(h, seconds) {
      const m = handles.get(h)!;
      releases.push({ body: m.body, seconds });
      m.visibleAt = clock.now + seconds * 1000;
    },
    async deadLetter(m) {
      dlq.push(m.body);
      handles.get(m.receiptHandle)!.deleted = true;
    },
  };
  const queue: DrainQueue = {
    pollable,
    maxReceiveCount,
    async depth() {
      clock.now += 100;
      return messages.filter((m) => !m.deleted).length;
    },
  };
  /** True when a message can be received now. */
  const visible = (m: Msg): boolean => !m.deleted && m.visibleAt <= clock.now;
  return { queue, pollable, send, messages, receivedAt, releases, dlq, visible };
}
