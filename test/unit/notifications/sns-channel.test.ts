import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { fifoId, SnsChannel } from '../../../src/adapters/channels.ts';
import type { OutgoingNotification } from '../../../src/domain/notify/deliver.ts';

const REF = 'PB-2025-7K3M-9QXD-2F8A';
const RECIPIENT = `ps_${'0123456789abcdef'.repeat(2)}`;

const notice = (over: Partial<OutgoingNotification> = {}): OutgoingNotification => ({
  deliveryId: `${REF}:${RECIPIENT}:grant`,
  ref: REF,
  recipient: RECIPIENT,
  lang: 'en',
  kind: 'grant',
  policy: 'newborn-allowance',
  period: '2025',
  amount: 1000,
  title: 'You have been granted the newborn allowance',
  body: '…',
  ...over,
});

/** A fake SNS client that records what it was asked to publish. */
function fakeSns() {
  const published: PublishCommandInput[] = [];
  const client = {
    send: async (command: unknown) => {
      expect(command).toBeInstanceOf(PublishCommand);
      published.push((command as PublishCommand).input);
      return { MessageId: `m-${published.length}` };
    },
  } as unknown as SNSClient;
  return { client, published };
}

const FIFO_ARN = 'arn:aws-cn:sns:cn-north-1:123456789012:pb-dev-notifications.fifo';
const STANDARD_ARN = 'arn:aws-cn:sns:cn-north-1:123456789012:pb-dev-notifications';

describe('SnsChannel', () => {
  it('to a FIFO topic: the delivery id deduplicates, the recipient is the message group', async () => {
    const { client, published } = fakeSns();
    const n = notice();
    await new SnsChannel(client, FIFO_ARN).send(n);
    expect(published).toEqual([
      {
        TopicArn: FIFO_ARN,
        Subject: n.title,
        Message: JSON.stringify(n),
        MessageAttributes: {
          deliveryId: { DataType: 'String', StringValue: n.deliveryId },
          recipient: { DataType: 'String', StringValue: RECIPIENT },
        },
        MessageGroupId: RECIPIENT,
        MessageDeduplicationId: `${REF}:${RECIPIENT}:grant`,
      },
    ]);
  });

  it('to a FIFO topic: the same delivery published twice carries the same deduplication id', async () => {
    const { client, published } = fakeSns();
    const channel = new SnsChannel(client, FIFO_ARN);
    await channel.send(notice());
    await channel.send(notice());
    const revocation = notice({ deliveryId: `${REF}:${RECIPIENT}:revocation`, kind: 'revocation' });
    await channel.send(revocation);
    expect(published.map((p) => p.MessageDeduplicationId)).toEqual([
      `${REF}:${RECIPIENT}:grant`,
      `${REF}:${RECIPIENT}:grant`,
      `${REF}:${RECIPIENT}:revocation`,
    ]);
    expect(new Set(published.map((p) => p.MessageGroupId))).toEqual(new Set([RECIPIENT]));
  });

  it('to a standard topic: no FIFO parameters (SNS rejects them there)', async () => {
    const { client, published } = fakeSns();
    await new SnsChannel(client, STANDARD_ARN).send(notice());
    expect(published).toHaveLength(1);
    expect(published[0]).not.toHaveProperty('MessageGroupId');
    expect(published[0]).not.toHaveProperty('MessageDeduplicationId');
  });
});

describe('fifoId', () => {
  it('keeps delivery ids and recipients as they are: within 128 characters of SNS alphabet', () => {
    const longest = `${REF}:${RECIPIENT}:revocation`;
    expect(longest.length).toBeLessThanOrEqual(128);
    expect(fifoId(longest)).toBe(longest);
    expect(fifoId(RECIPIENT)).toBe(RECIPIENT);
    const punctuation = `!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
    expect(fifoId(punctuation)).toBe(punctuation);
  });

  it('hashes what SNS would refuse (too long, spaces, non-ASCII, empty) to SHA-256 hex', () => {
    for (const bad of ['x'.repeat(129), 'a b', '通知:1', '']) {
      const id = fifoId(bad);
      expect(id, bad).toMatch(/^[0-9a-f]{64}$/);
      expect(fifoId(bad)).toBe(id);
    }
    expect(fifoId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(fifoId('a b')).not.toBe(fifoId('a  b'));
  });
});
