/**
 * A drain loop like `drainQueues` (src/local/pipeline.ts) that also keeps Lambda's timing: a
 * message whose processing failed becomes visible again only after a delay (in AWS, the queue's
 * visibility timeout, six times the function timeout), not at once.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sqsPollable } from '../adapters/sqs/pollable.ts';
import type { Consumers, DrainTotals } from '../local/pipeline.ts';
import { pollOnce, type PollableQueue, type PollResult } from '../local/poller.ts';
import type { LocalQueue } from '../local/stack.ts';
import type { QueueId } from '../resources.ts';
import { queueDepth } from './harness.ts';

/** Options of {@link drainWithRedelivery}. */
export interface DrainOptions {
  sqs: SQSClient;
  /** Concurrent pollers per queue (default 1). */
  concurrency?: number;
  /** Seconds a failed message stays invisible, per queue (default 0: at once, as drainQueues). */
  retryDelaySeconds?: Partial<Record<QueueId, number>>;
  /** Gives up (throws) after this long; a stuck drain is a failed test, not a hung one. */
  timeoutMs?: number;
}

/**
 * Polls every consumed queue until all are empty, honouring per-queue redelivery delays. Given a
 * list of consumers (execution environments, see `executionEnvironments`), poller i invokes the
 * i-th, so no environment runs two invocations at once.
 */
export async function drainWithRedelivery(
  queues: Record<QueueId, LocalQueue>,
  consumers: Consumers | Consumers[],
  opts: DrainOptions & { onProgress?: (t: DrainTotals) => void },
): Promise<DrainTotals> {
  const envs = Array.isArray(consumers) ? consumers : [consumers];
  const totals: DrainTotals = { polls: 0, perQueue: {} };
  const pollables = new Map<QueueId, PollableQueue>();
  for (const id of Object.keys(envs[0] ?? {}) as QueueId[]) {
    if (envs[0]![id]) pollables.set(id, await sqsPollable(opts.sqs, queues[id].url, queues[id].dlqUrl));
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const concurrency = opts.concurrency ?? 1;
  for (;;) {
    if (Date.now() > deadline) throw new Error('drain did not finish in time: messages keep failing');
    let received = 0;
    for (const [id, q] of pollables) {
      for (;;) {
        const results: PollResult[] = await Promise.all(
          Array.from({ length: concurrency }, (_, i) =>
            pollOnce(q, envs[i % envs.length]![id]!, {
              maxReceiveCount: queues[id].maxReceiveCount,
              functionName: id,
              retryDelaySeconds: opts.retryDelaySeconds?.[id] ?? 0,
            }),
          ),
        );
        let got = 0;
        for (const r of results) {
          totals.perQueue[id] ??= { received: 0, succeeded: 0, failed: 0, deadLettered: 0 };
          const t = totals.perQueue[id];
          t.received += r.received;
          t.succeeded += r.succeeded;
          t.failed += r.failed;
          t.deadLettered += r.deadLettered;
          got += r.received;
        }
        totals.polls += results.length;
        received += got;
        if (got > 0) opts.onProgress?.(totals);
        if (got === 0) break;
      }
    }
    if (received > 0) continue;
    let remaining = 0;
    for (const id of pollables.keys()) remaining += await queueDepth(opts.sqs, queues[id].url);
    if (remaining === 0) return totals;
    await new Promise((r) => setTimeout(r, 50));
  }
}
