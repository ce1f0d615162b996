/**
 * The harness's entry to the local drain loop (`drainQueues`, src/local/pipeline.ts), with the
 * harness's defaults: one poller per queue, failed messages redelivered at once unless a queue has a
 * delay (in AWS, the queue's visibility timeout, six times the function timeout), and a time limit.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type Consumers, type DrainTotals, drainQueues } from '../local/pipeline.ts';
import type { LocalQueue } from '../local/stack.ts';
import type { QueueId } from '../resources.ts';

/** Options of {@link drainWithRedelivery}. */
export interface DrainOptions {
  sqs: SQSClient;
  /** Concurrent pollers per queue (default 1). */
  concurrency?: number;
  /** Seconds a failed message stays invisible, per queue (default 0: at once). */
  retryDelaySeconds?: Partial<Record<QueueId, number>>;
  /** Gives up (throws) after this long (default 2 minutes); a stuck drain is a failed test, not a hung one. */
  timeoutMs?: number;
}

/**
 * Polls every consumed queue until all are empty, honouring per-queue redelivery delays. Given a
 * list of consumers (execution environments, see `executionEnvironments`), poller i invokes the
 * i-th (modulo their number), so no environment runs two invocations at once.
 */
export function drainWithRedelivery(
  queues: Record<QueueId, LocalQueue>,
  consumers: Consumers | Consumers[],
  opts: DrainOptions & { onProgress?: (t: DrainTotals) => void },
): Promise<DrainTotals> {
  return drainQueues(queues, consumers, {
    sqs: opts.sqs,
    concurrency: opts.concurrency ?? 1,
    retryDelaySeconds: opts.retryDelaySeconds ?? 0,
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
