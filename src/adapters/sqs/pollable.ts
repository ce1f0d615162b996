import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PollableQueue, PolledMessage } from '../../local/poller.ts';

/** An SQS queue (and its DLQ) as the local poller sees it. */
export async function sqsPollable(sqs: SQSClient, url: string, dlqUrl: string): Promise<PollableQueue> {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return {
    arn: attrs.Attributes?.QueueArn ?? url,
    async receive(max) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: [
            'ApproximateReceiveCount',
            'SentTimestamp',
            'ApproximateFirstReceiveTimestamp',
          ],
          MessageAttributeNames: ['All'],
        }),
      );
      return (r.Messages ?? []).map(
        (m): PolledMessage => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
          sentTimestamp: Number(m.Attributes?.SentTimestamp ?? Date.now()),
          firstReceiveTimestamp: Number(m.Attributes?.ApproximateFirstReceiveTimestamp ?? Date.now()),
          messageAttributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
          ),
        }),
      );
    },
    async delete(handles) {
      for (let i = 0; i < handles.length; i += 10) {
        const batch = handles.slice(i, i + 10);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: batch.map((h, j) => ({ Id: String(j), ReceiptHandle: h })),
          }),
        );
      }
    },
    async release(handle, seconds) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: handle,
          VisibilityTimeout: seconds,
        }),
      );
    },
    async deadLetter(m) {
      await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: m.body }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.receiptHandle }));
    },
  };
}
