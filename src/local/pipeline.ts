import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../adapters/aws.ts';
import { sqsPollable } from '../adapters/sqs/pollable.ts';
import type { QueueId } from '../resources.ts';
import {
  type PollableQueue,
  type PollResult,
  pollOnce,
  type RetryDelay,
  retryBackoff,
  type SqsHandler,
} from './poller.ts';
import type { LocalQueue } from './stack.ts';

/** Which handler consumes which queue, as the event-source mappings declare it in AWS. */
export type Consumers = Partial<Record<QueueId, SqsHandler>>;

/** Loads the real function handlers (imported lazily: they read the environment on first use). */
export async function functionHandlers(): Promise<Consumers> {
  const [ingest, evaluate, notify, backfill] = await Promise.all([
    import('../../functions/ingest.ts'),
    import('../../functions/evaluate.ts'),
    import('../../functions/notify.ts'),
    import('../../functions/backfill.ts'),
  ]);
  // Order matters only locally: each queue is drained before the next, like a burst of events
  // that lands before its evaluations run.
  return {
    agencyEvents: ingest.handler as unknown as SqsHandler,
    evaluations: evaluate.handler as unknown as SqsHandler,
    notifications: notify.handler as unknown as SqsHandler,
    backfill: backfill.handler as unknown as SqsHandler,
  };
}

export interface DrainTotals {
  polls: number;
  perQueue: Partial<Record<QueueId, PollResult>>;
}

/** Options of {@link drainQueues}. */
export interface DrainOptions {
  /** Pollers per queue, each looping on its own (default 2). */
  concurrency?: number;
  /** Pollers of particular queues, instead of `concurrency` (1: batches in the order received). */
  queueConcurrency?: Partial<Record<QueueId, number>>;
  /**
   * Seconds a failed message stays invisible before redelivery: one delay for every queue, or one
   * per queue (a queue absent from the record: 0, at once). Default {@link retryBackoff}: 1, 2, 4, 8,
   * 10 s by receive count. Pass 0 for redelivery at once.
   */
  retryDelaySeconds?: RetryDelay | Partial<Record<QueueId, RetryDelay>>;
  /** Gives up with an error after this long (default: never). */
  timeoutMs?: number;
  /** Called after every poll that received messages. */
  onProgress?: (t: DrainTotals) => void;
  sqs?: SQSClient;
  /** Pause between depth checks while messages are in flight or waiting out a delay (default 50). */
  idleMs?: number;
}

/** Visible + in flight + delayed messages of a queue. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = r.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Messages waiting in each queue's dead-letter queue. */
export async function dlqDepths(
  sqs: SQSClient,
  queues: Record<QueueId, LocalQueue>,
): Promise<Record<QueueId, number>> {
  const out = {} as Record<QueueId, number>;
  for (const id of Object.keys(queues) as QueueId[]) out[id] = await queueDepth(sqs, queues[id].dlqUrl);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryDelayOf(opt: DrainOptions['retryDelaySeconds'], id: QueueId): RetryDelay {
  if (opt === undefined) return retryBackoff;
  if (typeof opt === 'number' || typeof opt === 'function') return opt;
  return opt[id] ?? 0;
}

/** What {@link drainPollables} needs of a queue besides its poller interface. */
export interface DrainQueue {
  pollable: PollableQueue;
  maxReceiveCount: number;
  /** Visible + in flight + delayed messages. */
  depth(): Promise<number>;
}

/**
 * Plays Lambda's part locally: polls every consumed queue until every queue is empty (nothing
 * visible, nothing in flight, nothing delayed), invoking the handlers.
 *
 * - Stages: the queues are drained one after the other in the consumers' order (agency events,
 *   evaluations, notifications, backfill), each until it is empty, failed messages waiting out their
 *   retry delay included; then again from the first, until all are empty. So a burst of events is
 *   ingested before its evaluations run, and grants follow the final facts.
 * - Within a stage, `concurrency` pollers loop independently (poll, repeat) until the queue comes
 *   back empty: a slow invocation holds up only its own poller.
 * - Given a list of consumers (execution environments), poller i invokes environment i % n, so no
 *   environment runs two invocations at once (when n >= concurrency).
 */
export async function drainQueues(
  queues: Record<QueueId, LocalQueue>,
  consumers: Consumers | Consumers[],
  opts: DrainOptions = {},
): Promise<DrainTotals> {
  const sqs = opts.sqs ?? sqsClient();
  const envs = Array.isArray(consumers) ? consumers : [consumers];
  const drained = new Map<QueueId, DrainQueue>();
  for (const id of Object.keys(envs[0] ?? {}) as QueueId[]) {
    if (!envs[0]![id]) continue;
    const q = queues[id];
    drained.set(id, {
      pollable: await sqsPollable(sqs, q.url, q.dlqUrl),
      maxReceiveCount: q.maxReceiveCount,
      depth: () => queueDepth(sqs, q.url),
    });
  }
  return drainPollables(drained, envs, opts);
}

/** {@link drainQueues} over any pollable queues (in-memory ones in the unit tests). */
export async function drainPollables(
  queues: Map<QueueId, DrainQueue>,
  consumers: Consumers | Consumers[],
  opts: Omit<DrainOptions, 'sqs'> = {},
): Promise<DrainTotals> {
  const envs = Array.isArray(consumers) ? consumers : [consumers];
  if (envs.length === 0) throw new Error('drain: no consumers');
  const concurrency = Math.max(1, opts.concurrency ?? 2);
  const idleMs = opts.idleMs ?? 50;
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  const halt = { now: false };
  const halted = () => halt.now || Date.now() > deadline;
  const totals: DrainTotals = { polls: 0, perQueue: {} };
  const add = (id: QueueId, r: PollResult) => {
    totals.perQueue[id] ??= { received: 0, succeeded: 0, failed: 0, deadLettered: 0 };
    const t = totals.perQueue[id];
    t.received += r.received;
    t.succeeded += r.succeeded;
    t.failed += r.failed;
    t.deadLettered += r.deadLettered;
    totals.polls++;
    if (r.received > 0) opts.onProgress?.(totals);
  };
  const timedOut = async (): Promise<Error> => {
    const left: string[] = [];
    for (const [id, q] of queues) {
      const n = await q.depth().catch(() => Number.NaN);
      if (n !== 0) left.push(`${id} ${n}`);
    }
    return new Error(
      `drain did not finish within ${opts.timeoutMs} ms; messages left: ${left.join(', ') || 'none'}`,
    );
  };

  /** One poller: polls its queue until a receive comes back empty (or the drain must stop). */
  const poller = async (id: QueueId, q: DrainQueue, env: Consumers, stop: { now: boolean }) => {
    const handler = env[id];
    if (!handler) throw new Error(`drain: an execution environment has no handler for ${id}`);
    const pollOpts = {
      maxReceiveCount: q.maxReceiveCount,
      functionName: id,
      retryDelaySeconds: retryDelayOf(opts.retryDelaySeconds, id),
    };
    let received = 0;
    while (!stop.now && !halted()) {
      const r = await pollOnce(q.pollable, handler, pollOpts);
      add(id, r);
      received += r.received;
      if (r.received === 0) break;
    }
    return received;
  };

  /** One stage: the queue's pollers, again after each pause, until the queue is empty. */
  const stage = async (id: QueueId, q: DrainQueue): Promise<number> => {
    let received = 0;
    for (;;) {
      const stop = { now: false };
      const results = await Promise.allSettled(
        Array.from({ length: Math.max(1, opts.queueConcurrency?.[id] ?? concurrency) }, (_, i) =>
          poller(id, q, envs[i % envs.length]!, stop).catch((e: unknown) => {
            stop.now = true; // the others end after their current poll
            throw e;
          }),
        ),
      );
      for (const r of results) {
        if (r.status === 'rejected') throw r.reason;
        received += r.value;
      }
      if (halted()) throw await timedOut();
      if ((await q.depth()) === 0) return received;
      // Failed messages waiting out their delay, or messages in flight elsewhere.
      await sleep(idleMs);
    }
  };

  const run = async (): Promise<DrainTotals> => {
    for (;;) {
      let received = 0;
      for (const [id, q] of queues) received += await stage(id, q);
      if (received === 0) {
        // Every stage found its queue empty at once: done, unless a later stage fed an earlier one.
        let remaining = 0;
        for (const q of queues.values()) remaining += await q.depth();
        if (remaining === 0) return totals;
        if (halted()) throw await timedOut();
        await sleep(idleMs);
      }
    }
  };
  if (opts.timeoutMs === undefined) return run();
  // The time limit holds even while an invocation hangs: the drain gives up, its pollers stop
  // after their current poll.
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      halt.now = true;
      void timedOut().then(reject, reject);
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([run(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The most a message body, and a whole batch, may hold here: SQS's long-standing 256 KiB (queues
 * may allow 1 MiB now, but not all do). An agency event is at most 64 KiB, so a line above this is
 * refused by the queue's owner before it is sent (see `pb replay`).
 */
export const MAX_QUEUED_BYTES = 256 * 1024;

/** Room for the message attributes and the batch entry around each body. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Sends bodies to a queue in batches of at most ten and at most {@link MAX_QUEUED_BYTES}, each with
 * its 1-based line number as an attribute; returns the message ids. A body too large to queue is
 * an error (callers leave such lines out).
 */
export async function sendLines(
  sqs: SQSClient,
  url: string,
  lines: Array<{ line: number; body: string }>,
  onProgress?: (sent: number) => void,
): Promise<string[]> {
  const ids: string[] = [];
  let sentCount = 0;
  for (let i = 0; i < lines.length; ) {
    const chunk: Array<{ line: number; body: string }> = [];
    let bytes = 0;
    while (i < lines.length && chunk.length < 10) {
      const l = lines[i]!;
      const size = queuedBytes(l.body);
      if (size > MAX_QUEUED_BYTES) {
        throw new Error(`line ${l.line} is too large to queue (${size - ENTRY_OVERHEAD_BYTES} bytes)`);
      }
      if (chunk.length > 0 && bytes + size > MAX_QUEUED_BYTES) break;
      chunk.push(l);
      bytes += size;
      i++;
    }
    const r = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((l, j) => ({
          Id: String(j),
          MessageBody: l.body,
          MessageAttributes: { line: { DataType: 'Number', StringValue: String(l.line) } },
        })),
      }),
    );
    if (r.Failed && r.Failed.length > 0)
      throw new Error(
        `could not queue line ${chunk[Number(r.Failed[0]!.Id)]!.line}: ${r.Failed[0]!.Message}`,
      );
    for (const ok of r.Successful ?? []) ids.push(ok.MessageId!);
    sentCount += chunk.length;
    onProgress?.(sentCount);
  }
  return ids;
}

/** What a body takes of a batch: its UTF-8 bytes and the entry around it. */
const queuedBytes = (body: string): number => Buffer.byteLength(body, 'utf8') + ENTRY_OVERHEAD_BYTES;

/** True when a line can be queued as one message by {@link sendLines}. */
export const fitsQueue = (body: string): boolean => queuedBytes(body) <= MAX_QUEUED_BYTES;
