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
 * AWS channel: publishes to an SNS topic (`PB_NOTIFY_TOPIC_ARN`); the messaging gateway that
 * reaches app inboxes, SMS or letters subscribes to it and resolves pseudonyms to contacts.
 */
export class SnsChannel implements NotificationChannel {
  readonly name = 'sns';
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

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
      }),
    );
  }
}

export { SNSClient };
