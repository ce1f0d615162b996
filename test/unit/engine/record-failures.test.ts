import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { logger, logRecordFailures } from '../../../src/adapters/observability.ts';

const record = (messageId: string, body: string, receiveCount: number): SQSRecord =>
  ({
    messageId,
    receiptHandle: messageId,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:cn-north-1:000000000000:pb-dev-agency-events',
    awsRegion: 'cn-north-1',
  }) as unknown as SQSRecord;

describe('Function: logRecordFailures', () => {
  it('logs each failed record with its receive count and error, identity-like digits masked', async () => {
    // Prepare: a batch of three, two of which fail.
    const event: SQSEvent = {
      Records: [record('m-1', 'ok', 1), record('m-2', 'boom', 3), record('m-3', 'id', 5)],
    };
    const processor = new BatchProcessor(EventType.SQS);
    const response = await processPartialResponse(
      event,
      async (r: SQSRecord) => {
        if (r.body === 'boom') throw new Error('ProvisionedThroughputExceeded on pb-dev-profiles');
        if (r.body === 'id') throw new TypeError('cannot read 11010519491231002X of 9111010500049M302T');
      },
      processor,
      { context: {} as Context },
    );
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    // Act
    logRecordFailures(processor, 'agency-events');
    // Assess
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-2', 'm-3']);
    expect(error.mock.calls.map((c) => c[1])).toEqual([
      {
        queue: 'agency-events',
        messageId: 'm-2',
        receiveCount: 3,
        error: { name: 'Error', message: 'ProvisionedThroughputExceeded on pb-dev-profiles' },
      },
      {
        queue: 'agency-events',
        messageId: 'm-3',
        receiveCount: 5,
        error: { name: 'TypeError', message: `cannot read ${'*'.repeat(18)} of ${'*'.repeat(18)}` },
      },
    ]);
    error.mockRestore();
  });
});
