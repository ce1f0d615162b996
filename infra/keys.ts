import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { removalPolicy, type Settings } from './settings.ts';

/**
 * The engine's customer-managed KMS keys, all with yearly automatic rotation. Three keys so that a
 * grant on one kind of data never reaches another:
 * - `data`: tables, the pseudonym secret and the log groups (personal data at rest);
 * - `messaging`: queues and topics (messages in flight, alarm notifications);
 * - `digests`: the ledger digest bucket (the audit anchor).
 */
export class EngineKeys extends Construct {
  readonly data: kms.Key;
  readonly messaging: kms.Key;
  readonly digests: kms.Key;

  constructor(scope: Construct, id: string, settings: Settings) {
    super(scope, id);
    const key = (name: string, description: string, removal: RemovalPolicy): kms.Key =>
      new kms.Key(this, name, {
        description: `${settings.prefix}: ${description}`,
        alias: `alias/${settings.prefix}/${name.toLowerCase()}`,
        enableKeyRotation: true,
        // A deleted key makes every record it encrypted unreadable: the longest waiting period.
        pendingWindow: Duration.days(30),
        removalPolicy: removal,
      });
    // The pseudonym secret and the digest bucket outlive the stack in every stage (a lost secret
    // orphans every pseudonym; locked digests cannot be deleted early): so do the keys that encrypt
    // them, or the kept data would become unreadable 30 days after a `cdk destroy`.
    this.data = key('Data', 'tables, pseudonym key, logs', RemovalPolicy.RETAIN);
    this.messaging = key('Messaging', 'queues and topics', removalPolicy(settings));
    this.digests = key('Digests', 'ledger digests', RemovalPolicy.RETAIN);

    const stack = Stack.of(this);
    // CloudWatch Logs encrypts the function and access log groups with the data key; the condition
    // keeps the grant to this account's log groups.
    this.data.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the KMS-encrypted alarm topic.
    this.messaging.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
}
