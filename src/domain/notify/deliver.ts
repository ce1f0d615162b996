import type { OutboxRow } from '../engine/model.ts';
import { renderNotification } from '../notifications/index.ts';
import type { PolicySet } from '../rules/index.ts';

/** A rendered notification ready for a channel. Carries pseudonyms only. */
export interface OutgoingNotification {
  deliveryId: string;
  ref: string;
  recipient: string;
  lang: 'zh-CN' | 'en';
  kind: OutboxRow['kind'];
  policy: string;
  period: string;
  amount: number | null;
  title: string;
  body: string;
}

/** A way to reach a beneficiary (local file + console, SNS, a gateway): one port, many adapters. */
export interface NotificationChannel {
  readonly name: string;
  send(n: OutgoingNotification): Promise<void>;
}

/** Record that a notification went out. */
export interface DeliveryRecord {
  deliveryId: string;
  ref: string;
  recipient: string;
  channel: string;
  kind: OutboxRow['kind'];
  deliveredAt: string;
}

export interface DeliverDeps {
  policies: PolicySet;
  channel: NotificationChannel;
  contact: string;
  link: string;
  lang: 'zh-CN' | 'en';
  now: () => Date;
  recordDelivery(r: DeliveryRecord): Promise<void>;
}

/** Renders one outbox row for its recipient and sends it through the channel. */
export async function deliver(deps: DeliverDeps, row: OutboxRow): Promise<DeliveryRecord> {
  const policy = deps.policies.policies.find((p) => p.id === row.policy);
  if (!policy) throw new Error(`notification ${row.deliveryId}: unknown policy ${row.policy}`);
  const text = renderNotification({
    kind: row.kind === 'revocation' ? 'revocation' : row.kind,
    lang: deps.lang,
    policyTitle: policy.title,
    legalReference: policy.legalReference,
    period: row.period,
    amount: row.amount,
    reference: row.ref,
    recipientRole: row.recipientRole,
    contact: deps.contact,
    link: deps.link,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.previousAmount !== undefined ? { previousAmount: row.previousAmount } : {}),
  });
  await deps.channel.send({
    deliveryId: row.deliveryId,
    ref: row.ref,
    recipient: row.recipient,
    lang: deps.lang,
    kind: row.kind,
    policy: row.policy,
    period: row.period,
    amount: row.amount,
    title: text.subject,
    body: text.body,
  });
  const record: DeliveryRecord = {
    deliveryId: row.deliveryId,
    ref: row.ref,
    recipient: row.recipient,
    channel: deps.channel.name,
    kind: row.kind,
    deliveredAt: deps.now().toISOString(),
  };
  await deps.recordDelivery(record);
  return record;
}
