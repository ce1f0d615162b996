import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sqsClient } from '../adapters/aws.ts';
import { sqsPollable } from '../adapters/sqs/pollable.ts';
import type { QueueId } from '../resources.ts';
import { pollOnce, type PollableQueue, type PollResult, type SqsHandler } from './poller.ts';
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

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Plays Lambda's part locally: polls every consumed queue with `concurrency` pollers each, invoking
 * the handlers, until every queue is empty (nothing visible, nothing in flight).
 */
export async function drainQueues(
  queues: Record<QueueId, LocalQueue>,
  consumers: Consumers,
  opts: { concurrency?: number; onProgress?: (t: DrainTotals) => void; sqs?: SQSClient } = {},
): Promise<DrainTotals> {
  const sqs = opts.sqs ?? sqsClient();
  const totals: DrainTotals = { polls: 0, perQueue: {} };
  const pollables = new Map<QueueId, PollableQueue>();
  for (const id of Object.keys(consumers) as QueueId[]) {
    pollables.set(id, await sqsPollable(sqs, queues[id].url, queues[id].dlqUrl));
  }
  const add = (id: QueueId, r: PollResult) => {
    totals.perQueue[id] ??= { received: 0, succeeded: 0, failed: 0, deadLettered: 0 };
    const t = totals.perQueue[id];
    t.received += r.received;
    t.succeeded += r.succeeded;
    t.failed += r.failed;
    t.deadLettered += r.deadLettered;
  };
  const concurrency = opts.concurrency ?? 2;
  for (;;) {
    let receivedThisRound = 0;
    for (const [id, q] of pollables) {
      // Drain one queue with several concurrent pollers before moving to the next.
      for (;;) {
        const results = await Promise.all(
          Array.from({ length: concurrency }, () =>
            pollOnce(q, consumers[id]!, { maxReceiveCount: queues[id].maxReceiveCount, functionName: id }),
          ),
        );
        let got = 0;
        for (const r of results) {
          add(id, r);
          got += r.received;
        }
        totals.polls += results.length;
        receivedThisRound += got;
        if (got > 0) opts.onProgress?.(totals);
        if (got === 0) break;
      }
    }
    if (receivedThisRound > 0) continue;
    let remaining = 0;
    for (const id of pollables.keys()) remaining += await depth(sqs, queues[id].url);
    if (remaining === 0) return totals;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends bodies to a queue in batches of ten, each with its 1-based line number as an attribute; returns the message ids. */
export async function sendLines(
  sqs: SQSClient,
  url: string,
  lines: Array<{ line: number; body: string }>,
  onProgress?: (sent: number) => void,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < lines.length; i += 10) {
    const chunk = lines.slice(i, i + 10);
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
    onProgress?.(Math.min(i + 10, lines.length));
  }
  return ids;
}
