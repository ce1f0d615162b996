import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { NotificationChannel, OutgoingNotification } from '../domain/notify/deliver.ts';

/**
 * Local channel: appends each notification to a JSONL outbox file (and tells the console). It
 * skips a delivery id it has already written, so a redelivered message is not written twice.
 */
export class FileChannel implements NotificationChannel {
  readonly name = 'local-file';
  private readonly seen = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly onSend?: (n: OutgoingNotification) => void,
  ) {
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          this.seen.add((JSON.parse(line) as OutgoingNotification).deliveryId);
        } catch {
          // a torn last line from a crash; the id will be written again
        }
      }
    }
  }

  async send(n: OutgoingNotification): Promise<void> {
    if (this.seen.has(n.deliveryId)) return;
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(n)}\n`);
    this.seen.add(n.deliveryId);
    this.onSend?.(n);
  }
}

/**
 * What SNS accepts as a FIFO `MessageDeduplicationId` or `MessageGroupId`: 1 to 128 characters,
 * alphanumerics and ASCII punctuation.
 */
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * The value itself when SNS accepts it as a FIFO id, else its SHA-256 in hex (64 characters, so
 * still one id per value). Delivery ids (`PB-2025-7K3M-9QXD-2F8A:ps_<32 hex>:grant`, 69 characters
 * at most) and recipients (`ps_<32 hex>`) are used as they are.
 */
export function fifoId(value: string): string {
  return FIFO_ID.test(value) ? value : createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * AWS channel: publishes to an SNS topic (`PB_NOTIFY_TOPIC_ARN`); the messaging gateway that
 * reaches app inboxes, SMS or letters subscribes to it and resolves pseudonyms to contacts.
 * To a FIFO topic (ARN ending `.fifo`) it publishes with the delivery id as
 * `MessageDeduplicationId`, so a notify retry that publishes again after a successful publish
 * (within SNS's five-minute deduplication window) is accepted but delivered to no subscriber, and
 * the recipient as `MessageGroupId`, so one person's notices arrive in order.
 */
export class SnsChannel implements NotificationChannel {
  readonly name = 'sns';
  private readonly fifo: boolean;

  constructor(
    private readonly sns: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
  ) {
    this.fifo = topicArn.endsWith('.fifo');
  }

  async send(n: OutgoingNotification): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: n.title.slice(0, 100),
        Message: JSON.stringify(n),
        MessageAttributes: {
          deliveryId: { DataType: 'String', StringValue: n.deliveryId },
          recipient: { DataType: 'String', StringValue: n.recipient },
        },
        ...(this.fifo
          ? { MessageGroupId: fifoId(n.recipient), MessageDeduplicationId: fifoId(n.deliveryId) }
          : {}),
      }),
    );
  }
}

export { SNSClient };
