import { GetQueueUrlCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../config.ts';
import type { OutboxRow } from '../../domain/engine/model.ts';
import type { OutboxRelay } from '../../domain/engine/ports.ts';
import type { QueueId } from '../../resources.ts';
import { deleteOutboxRows } from '../dynamodb/subject-store.ts';

const urls = new Map<string, string>();

/** A queue's URL: from the environment, else looked up by name once per process. */
export async function queueUrl(sqs: SQSClient, config: Config, id: QueueId): Promise<string> {
  const given = config.queueUrl(id);
  if (given) return given;
  const name = config.queue(id);
  let url = urls.get(name);
  if (!url) {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    urls.set(name, url);
  }
  return url;
}

/** Sends message bodies in batches of ten, failing when any entry fails. */
export async function sendBatch(sqs: SQSClient, url: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const r = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((b, j) => ({ Id: String(j), MessageBody: b })),
      }),
    );
    if (r.Failed && r.Failed.length > 0) {
      throw new Error(
        `${r.Failed.length} of ${chunk.length} messages were not sent: ${r.Failed[0]?.Message ?? ''}`,
      );
    }
  }
}

/**
 * Relays outbox rows to the notifications queue, then deletes them. A crash in between leaves the
 * rows in place; the next delivery of the same event relays them again, and the notify function's
 * idempotency keeps that to one notification per delivery id.
 */
export class SqsOutboxRelay implements OutboxRelay {
  constructor(
    private readonly sqs: SQSClient,
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
  ) {}

  async relay(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await sendBatch(
      this.sqs,
      await queueUrl(this.sqs, this.config, 'notifications'),
      rows.map((r) => JSON.stringify(r)),
    );
    await deleteOutboxRows(this.doc, this.config, rows);
  }
}
