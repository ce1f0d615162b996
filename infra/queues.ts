import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqName, type QueueId, QUEUES, queueName, visibilityTimeoutSeconds } from '../src/resources.ts';
import type { Settings } from './settings.ts';

/** A queue from `QUEUES` and its dead-letter queue. */
export interface EngineQueue {
  queue: sqs.Queue;
  dlq: sqs.Queue;
}

/** How a function consumes a queue. */
export interface ConsumeOptions {
  /**
   * Most concurrent invocations the event-source mapping starts (2..1000). Caps the load one queue
   * puts on DynamoDB and leaves the account's concurrency for the others, without the deploy-time
   * risk of reserved concurrency in accounts with a low limit.
   */
  maxConcurrency: number;
}

/**
 * Every queue in `QUEUES` with its dead-letter queue, built from its definition: KMS-encrypted with
 * the messaging key, TLS required, redrive after `maxReceiveCount` receives, visibility six times the
 * consumer's timeout, DLQ retention from `dlqRetentionDays`.
 */
export class EngineQueues extends Construct {
  readonly byId: Record<QueueId, EngineQueue>;
  private readonly key: kms.IKey;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: { settings: Settings; key: kms.IKey }) {
    super(scope, id);
    this.key = props.key;
    this.prefix = props.settings.prefix;
    const build = (qid: QueueId): EngineQueue => {
      const def = QUEUES[qid];
      const dlq = new sqs.Queue(this, `${qid}Dlq`, {
        queueName: dlqName(props.settings.prefix, qid),
        retentionPeriod: Duration.days(def.dlqRetentionDays),
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        // Data keys are reused for five minutes: fewer KMS calls, same protection.
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, qid, {
        queueName: queueName(props.settings.prefix, qid),
        retentionPeriod: Duration.days(def.retentionDays),
        visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(def)),
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: def.maxReceiveCount },
      });
      return { queue, dlq };
    };
    this.byId = Object.fromEntries(
      (Object.keys(QUEUES) as QueueId[]).map((qid) => [qid, build(qid)]),
    ) as Record<QueueId, EngineQueue>;
  }

  /**
   * Makes `fn` the consumer of queue `qid`: batches of ten, partial batch responses (a failed record
   * is retried alone instead of its whole batch) and a concurrency cap. The mapping grants receive,
   * delete and decrypt.
   */
  consume(fn: lambda.IFunction, qid: QueueId, options: ConsumeOptions): void {
    fn.addEventSource(
      new SqsEventSource(this.byId[qid].queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: options.maxConcurrency,
      }),
    );
  }

  /**
   * Lets `grantee` send to queue `qid`: SendMessage plus the two key actions SQS needs to encrypt.
   * Nothing to look the queue up with: every producer is given its queue's URL (PB_QUEUE_URL_<ID>).
   */
  grantSend(grantee: iam.IGrantable, qid: QueueId): void {
    this.byId[qid].queue.grant(grantee, 'sqs:SendMessage');
    this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  /**
   * Lets another AWS account send to queue `qid` (queue policy), and use the messaging key for it
   * only through SQS and only for that queue (key policy conditions): the key also protects the
   * other queues and the topics, which the account must not read.
   */
  grantSendToAccount(account: string, qid: QueueId): void {
    const principal = new iam.AccountPrincipal(account);
    const queue = this.byId[qid].queue;
    queue.grant(principal, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
    const stack = Stack.of(this);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [principal],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:ViaService': `sqs.${stack.region}.${stack.urlSuffix}`,
            // The ARN built from the name: the queue's own attribute would make key and queue
            // depend on each other.
            'kms:EncryptionContext:aws:sqs:arn': stack.formatArn({
              service: 'sqs',
              resource: queueName(this.prefix, qid),
            }),
          },
        },
      }),
    );
  }
}
