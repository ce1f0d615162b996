import { createHash } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** A message as the poller receives it. */
export interface PolledMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  receiveCount: number;
  sentTimestamp: number;
  firstReceiveTimestamp: number;
  messageAttributes?: Record<string, string>;
}

/** What the poller needs of a queue: the few SQS calls Lambda's event-source mapping makes. */
export interface PollableQueue {
  /** Queue ARN as Lambda reports it in `eventSourceARN`. */
  arn: string;
  receive(max: number): Promise<PolledMessage[]>;
  delete(receiptHandles: string[]): Promise<void>;
  /** Makes a message visible again after `seconds` (0: at once). */
  release(receiptHandle: string, seconds: number): Promise<void>;
  /** Moves a message to the dead-letter queue (send there, then delete here). */
  deadLetter(message: PolledMessage): Promise<void>;
}

/** A Lambda handler for SQS events, as the functions export it. */
export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined | undefined>;

export interface PollResult {
  received: number;
  succeeded: number;
  failed: number;
  deadLettered: number;
}

/**
 * Seconds a failed message stays invisible before redelivery: a fixed number, or a function of the
 * receive that failed (1 for the first), e.g. {@link retryBackoff}.
 */
export type RetryDelay = number | ((receiveCount: number) => number);

/**
 * The local default: 1, 2, 4, 8 s … capped at 10 s. Spaces the receives of a failing message the way
 * Lambda's visibility timeout does (there: minutes), so a burst of throttling does not exhaust
 * maxReceiveCount within a second and dead-letter messages that a later receive would process.
 */
export function retryBackoff(receiveCount: number): number {
  return Math.min(10, 2 ** Math.max(0, receiveCount - 1));
}

/** The delay for a message whose `receiveCount`-th receive failed. */
export function retryDelayFor(delay: RetryDelay | undefined, receiveCount: number): number {
  const s = typeof delay === 'function' ? delay(receiveCount) : (delay ?? 0);
  // SQS accepts whole seconds from 0 to 12 hours.
  return Math.min(43_200, Math.max(0, Math.ceil(s)));
}

export interface PollOptions {
  maxReceiveCount: number;
  batchSize?: number;
  /**
   * Seconds a failed message stays invisible before redelivery (Lambda: the visibility timeout);
   * default 0: at once. A message whose last allowed receive failed is released at once whatever
   * the delay: its next receive only moves it to the dead-letter queue.
   */
  retryDelaySeconds?: RetryDelay;
  region?: string;
  functionName?: string;
}

/** A Lambda context good enough for Powertools (remaining time, request id). */
export function localContext(functionName: string, timeoutMs = 30_000): Context {
  const started = Date.now();
  const id = createHash('sha256')
    .update(`${functionName}${started}${Math.random()}`)
    .digest('hex')
    .slice(0, 32);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: id,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function toRecord(m: PolledMessage, arn: string, region: string): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentTimestamp),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.messageAttributes ?? {}).map(([k, v]) => [
        k,
        { stringValue: v, dataType: 'String', stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: createHash('md5').update(m.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/**
 * One poll, as Lambda's SQS event-source mapping does it: receive up to `batchSize` messages, move
 * the ones received more than `maxReceiveCount` times to the DLQ, invoke the handler with an
 * `SQSEvent`, delete what succeeded and release the reported failures for redelivery. A handler
 * that throws fails the whole batch.
 */
export async function pollOnce(
  queue: PollableQueue,
  handler: SqsHandler,
  opts: PollOptions,
): Promise<PollResult> {
  const received = await queue.receive(opts.batchSize ?? 10);
  const result: PollResult = { received: received.length, succeeded: 0, failed: 0, deadLettered: 0 };
  if (received.length === 0) return result;
  const live: PolledMessage[] = [];
  for (const m of received) {
    if (m.receiveCount > opts.maxReceiveCount) {
      await queue.deadLetter(m);
      result.deadLettered++;
    } else live.push(m);
  }
  if (live.length === 0) return result;
  const event: SQSEvent = { Records: live.map((m) => toRecord(m, queue.arn, opts.region ?? 'cn-north-1')) };
  let failedIds: Set<string>;
  try {
    const response = await handler(event, localContext(opts.functionName ?? 'local'));
    failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    failedIds = new Set(live.map((m) => m.messageId));
  }
  const done = live.filter((m) => !failedIds.has(m.messageId));
  const failed = live.filter((m) => failedIds.has(m.messageId));
  if (done.length > 0) await queue.delete(done.map((m) => m.receiptHandle));
  for (const m of failed) {
    // The last allowed receive failed: Lambda leaves it and SQS redrives it on the next receive,
    // which need not wait.
    const last = m.receiveCount >= opts.maxReceiveCount;
    await queue.release(m.receiptHandle, last ? 0 : retryDelayFor(opts.retryDelaySeconds, m.receiveCount));
  }
  result.succeeded = done.length;
  result.failed = failed.length;
  return result;
}
