import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Settings } from './settings.ts';

/**
 * The real delivery channel in AWS: the notify function publishes each rendered notification here
 * (`PB_NOTIFY_TOPIC_ARN`); the messaging gateway that reaches app inboxes, SMS or letters subscribes
 * with an SQS FIFO queue. A FIFO topic (`<prefix>-notifications.fifo`), deduplicating on the
 * delivery id the notify function passes as `MessageDeduplicationId` (not on content), so a notify
 * retry that publishes again within SNS's five-minute window reaches no subscriber twice.
 * KMS-encrypted with the messaging key, TLS only.
 */
export class NotificationsTopic extends Construct {
  readonly topic: sns.Topic;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: { settings: Settings; key: kms.IKey }) {
    super(scope, id);
    this.key = props.key;
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.settings.prefix}-notifications.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      masterKey: props.key,
      enforceSSL: true,
    });
  }

  /** Lets `grantee` publish: sns:Publish and exactly the two key actions (no `GenerateDataKey*`). */
  grantPublish(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}
