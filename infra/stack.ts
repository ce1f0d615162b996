import { Duration, RemovalPolicy, Stack, type StackProps, Tags, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { QUEUES } from '../src/resources.ts';
import { EngineAlarms } from './alarms.ts';
import { type FunctionName, PbFunction } from './function.ts';
import { acknowledgeWildcardResource, nagArn } from './nag.ts';
import { EngineKeys } from './keys.ts';
import { LedgerDigests } from './ledger-digests.ts';
import { EngineQueues } from './queues.ts';
import { ReviewApi } from './review-api.ts';
import type { Settings } from './settings.ts';
import { EngineTables } from './tables.ts';

/** Properties of the engine's stack. */
export interface ProactiveBenefitsStackProps extends StackProps {
  settings: Settings;
}

/**
 * The whole engine in one stack: agency events in, decisions and notifications out, reviewers in
 * through the HTTP API. Each function is granted exactly the tables, queues, keys and buckets listed
 * for it below.
 */
export class ProactiveBenefitsStack extends Stack {
  readonly functions: Record<FunctionName, PbFunction>;

  constructor(scope: Construct, id: string, props: ProactiveBenefitsStackProps) {
    super(scope, id, props);
    const { settings } = props;
    // Cost allocation: activate these tags in Billing to see the engine's cost per stage.
    Tags.of(this).add('project', 'proactive-benefits');
    Tags.of(this).add('stage', settings.stage);

    const keys = new EngineKeys(this, 'Keys', settings);
    const tables = new EngineTables(this, 'Tables', { settings, key: keys.data });
    const queues = new EngineQueues(this, 'Queues', { settings, key: keys.messaging });
    const digests = new LedgerDigests(this, 'LedgerDigests', { settings, key: keys.digests });

    const pseudonymKey = new secretsmanager.Secret(this, 'PseudonymKey', {
      secretName: `${settings.prefix}/pseudonym-key`,
      description: 'HMAC key that turns identity numbers into pseudonyms (64 hex characters = 32 bytes)',
      encryptionKey: keys.data,
      generateSecretString: {
        passwordLength: 64,
        // Only 0-9 and a-f remain: a hex string, 4 bits of entropy per character, 256 bits in all.
        excludePunctuation: true,
        excludeUppercase: true,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
        includeSpace: false,
        requireEachIncludedType: false,
      },
      // Losing the key orphans every pseudonym ever written.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pseudonymKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the HMAC key changes every pseudonym, so profiles, decisions and ledger entries would no longer match their subjects. Re-keying is a planned migration (re-pseudonymise all tables under a new secret), not an automatic rotation.',
    });

    // The real delivery channel in AWS: notify publishes each notification here; the channel
    // (app inbox, SMS gateway, letter service) subscribes.
    const notifyTopic = new sns.Topic(this, 'NotificationsTopic', {
      topicName: `${settings.prefix}-notifications`,
      masterKey: keys.messaging,
      enforceSSL: true,
    });

    const fn = (
      name: FunctionName,
      timeout: Duration,
      environment: Record<string, string> = {},
    ): PbFunction => new PbFunction(this, name, { settings, name, timeout, logKey: keys.data, environment });
    const optional = (entries: Record<string, string | undefined>): Record<string, string> =>
      Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== undefined));
    const notificationsUrl = { PB_QUEUE_URL_NOTIFICATIONS: queues.byId.notifications.queue.queueUrl };
    const backfillUrl = { PB_QUEUE_URL_BACKFILL: queues.byId.backfill.queue.queueUrl };
    const digestBucket = { PB_DIGEST_BUCKET: digests.bucket.bucketName };
    const pseudonyms = { PB_PSEUDONYM_SECRET_ARN: pseudonymKey.secretArn };
    const review = optional({ PB_REVIEW_AMOUNT_THRESHOLD: settings.reviewAmountThreshold });

    const ingest = fn('ingest', Duration.seconds(QUEUES.agencyEvents.consumerTimeoutSeconds), {
      ...notificationsUrl,
      ...digestBucket,
      ...pseudonyms,
      ...review,
    });
    // Backfill re-queues the rest of a segment when its time runs short, hence its own queue's URL.
    const backfill = fn('backfill', Duration.seconds(QUEUES.backfill.consumerTimeoutSeconds), {
      ...notificationsUrl,
      ...backfillUrl,
      ...digestBucket,
      ...pseudonyms,
      ...review,
    });
    const notify = fn('notify', Duration.seconds(QUEUES.notifications.consumerTimeoutSeconds), {
      PB_NOTIFY_TOPIC_ARN: notifyTopic.topicArn,
      ...optional({ PB_NOTIFY_CONTACT: settings.notifyContact, PB_NOTIFY_LINK: settings.notifyLink }),
    });
    // API Gateway waits at most 30 s for an integration; the export is the slowest route.
    const reviewFn = fn('review-api', Duration.seconds(29), {
      ...notificationsUrl,
      ...digestBucket,
      ...pseudonyms,
    });
    const tick = fn('tick', Duration.seconds(60), {
      PB_QUEUE_URL_BACKFILL: queues.byId.backfill.queue.queueUrl,
    });
    this.functions = { ingest, backfill, notify, 'review-api': reviewFn, tick };

    // Who touches what. Decisions are written by the granting functions and the reviewers; the
    // ledger is append-only for all of them; only relayed outbox rows and idempotency records are
    // ever deleted (the relay deletes a row once it is on the notifications queue).
    tables.grant(ingest, 'profiles', 'readWrite');
    tables.grant(ingest, 'events', 'readWrite');
    tables.grant(ingest, 'decisions', 'readWrite');
    tables.grant(ingest, 'ledger', 'append');
    tables.grant(ingest, 'outbox', 'readWriteDelete');
    tables.grant(ingest, 'quarantine', 'readWrite');
    tables.grant(backfill, 'profiles', 'readWrite');
    tables.grant(backfill, 'decisions', 'readWrite');
    tables.grant(backfill, 'ledger', 'append');
    tables.grant(backfill, 'outbox', 'readWriteDelete');
    // Tick sizes the fan-out from the profiles table's item count (DescribeTable only).
    tables.grant(tick, 'profiles', 'describe');
    tables.grant(notify, 'deliveries', 'readWrite');
    tables.grant(notify, 'idempotency', 'readWriteDelete');
    tables.grant(reviewFn, 'decisions', 'readWrite');
    tables.grant(reviewFn, 'ledger', 'append');
    tables.grant(reviewFn, 'outbox', 'readWriteDelete');
    tables.grant(reviewFn, 'profiles', 'read');
    tables.grant(reviewFn, 'deliveries', 'read');

    queues.consume(ingest, 'agencyEvents', { maxConcurrency: 20 });
    queues.consume(notify, 'notifications', { maxConcurrency: 5 });
    // Backfill scans whole segments; a low cap keeps it from starving ingest of DynamoDB capacity.
    queues.consume(backfill, 'backfill', { maxConcurrency: 5 });
    for (const producer of [ingest, backfill, reviewFn]) queues.grantSend(producer, 'notifications');
    for (const producer of [tick, backfill]) queues.grantSend(producer, 'backfill');

    // Backfill builds the same engine dependencies as ingest, which include the pseudonym key.
    for (const reader of [ingest, backfill, reviewFn]) pseudonymKey.grantRead(reader);
    for (const writer of [ingest, backfill, reviewFn]) digests.grantPutDigest(writer.role!);
    // Explicit key actions instead of grantPublish's `GenerateDataKey*` wildcard.
    notify.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [notifyTopic.topicArn] }),
    );
    keys.messaging.grant(notify, 'kms:GenerateDataKey', 'kms:Decrypt');

    const api = new ReviewApi(this, 'ReviewApi', { settings, handler: reviewFn, logKey: keys.data });
    reviewFn.addEnvironment('PB_JWT_ISSUER', api.issuer);
    reviewFn.addEnvironment('PB_JWT_AUDIENCE', api.client.userPoolClientId);

    const schedulerRole = new iam.Role(this, 'PeriodOpeningRole', {
      description: `${settings.prefix}: EventBridge Scheduler invokes the tick function`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    acknowledgeWildcardResource(
      schedulerRole,
      `${nagArn(tick)}:*`,
      'LambdaInvoke grants invoke on the tick function and its versions (ARN:*); this role can invoke nothing else.',
    );
    // Periods open at midnight Beijing time on the 1st of each month (1 January included).
    new scheduler.Schedule(this, 'PeriodOpening', {
      scheduleName: `${settings.prefix}-period-opening`,
      description: 'Opens the new period: tick fans out backfill segments over all profiles',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0',
        hour: '0',
        day: '1',
        month: '*',
        timeZone: TimeZone.ASIA_SHANGHAI,
      }),
      target: new targets.LambdaInvoke(tick, {
        role: schedulerRole,
        // The scheduled time, not the invocation time: a retried invocation opens the same period.
        input: scheduler.ScheduleTargetInput.fromObject({ time: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });

    new EngineAlarms(this, 'Alarms', {
      settings,
      key: keys.messaging,
      queues: queues.byId,
      functions: this.functions,
    });
  }
}
