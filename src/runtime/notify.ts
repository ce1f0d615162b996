import { resolve } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { docClient } from '../adapters/aws.ts';
import { FileChannel, SNSClient, SnsChannel } from '../adapters/channels.ts';
import type { DeliverDeps, NotificationChannel, OutgoingNotification } from '../domain/notify/deliver.ts';
import { runtimeClock, runtimeConfig, runtimePolicies } from './engine.ts';

let channel: NotificationChannel | undefined;
let sendObservers: Array<(n: OutgoingNotification) => void> = [];

/** Observes every notification sent (the console of `npm start`); returns a remover. */
export function observeNotifications(fn: (n: OutgoingNotification) => void): () => void {
  sendObservers.push(fn);
  return () => {
    sendObservers = sendObservers.filter((o) => o !== fn);
  };
}

/** The local outbox file of notifications. */
export function notificationsFile(): string {
  return resolve(runtimeConfig().dataDir, 'notifications.jsonl');
}

/** Chooses the channel: SNS when `PB_NOTIFY_TOPIC_ARN` is set, else the local JSONL file. */
function runtimeChannel(): NotificationChannel {
  if (!channel) {
    const topic = process.env.PB_NOTIFY_TOPIC_ARN;
    channel = topic
      ? new SnsChannel(new SNSClient({}), topic)
      : new FileChannel(process.env.PB_NOTIFY_FILE ?? notificationsFile(), (n) => {
          for (const o of sendObservers) o(n);
        });
  }
  return channel;
}

/** Forgets the channel (tests with a new data directory). */
export function resetNotifyRuntime(): void {
  channel = undefined;
  sendObservers = [];
}

/** Dependencies of the notify function. */
export function deliverDeps(): DeliverDeps {
  const cfg = runtimeConfig();
  const lang = process.env.PB_NOTIFY_LANG === 'en' ? 'en' : 'zh-CN';
  return {
    policies: runtimePolicies(),
    channel: runtimeChannel(),
    contact: cfg.notifyContact,
    link: cfg.notifyLink,
    lang,
    now: () => runtimeClock().now(),
    recordDelivery: async (r) => {
      await docClient()
        .send(
          new PutCommand({
            TableName: cfg.table('deliveries'),
            Item: { pk: r.recipient, sk: r.deliveryId, ...r },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch((e: Error) => {
          if (e.name !== 'ConditionalCheckFailedException') throw e;
        });
    },
  };
}
