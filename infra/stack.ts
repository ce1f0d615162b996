import { CfnOutput, Duration, Lazy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { QUEUES } from '../src/resources.ts';
import { EngineAlarms } from './alarms.ts';
import { ConsoleSite } from './console-site.ts';
import { type FunctionName, PbFunction } from './function.ts';
import { EngineKeys } from './keys.ts';
import { LedgerDigests } from './ledger-digests.ts';
import { NotificationsTopic } from './notifications-topic.ts';
import { PeriodOpening } from './period-opening.ts';
import { PseudonymKey } from './pseudonym-key.ts';
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
 * through the HTTP API. Each function gets exactly the variables and grants listed for it here.
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
    // Agencies in accounts of their own publish through the queue's and the key's resource policies.
    for (const account of settings.agencyAccounts) {
      queues.grantSendToAccount(account, 'agencyEvents');
    }
    const digests = new LedgerDigests(this, 'LedgerDigests', { settings, key: keys.digests });
    const pseudonymKey = new PseudonymKey(this, 'PseudonymKey', { settings, key: keys.data });
    const notifications = new NotificationsTopic(this, 'Notifications', { settings, key: keys.messaging });

    const fn = (name: FunctionName, timeout: Duration, environment: Record<string, string | undefined>) =>
      new PbFunction(this, name, {
        settings,
        name,
        timeout,
        logKey: keys.data,
        environment: defined(environment),
      });
    const notificationsUrl = { PB_QUEUE_URL_NOTIFICATIONS: queues.byId.notifications.queue.queueUrl };
    const backfillUrl = { PB_QUEUE_URL_BACKFILL: queues.byId.backfill.queue.queueUrl };
    const pseudonyms = { PB_PSEUDONYM_SECRET_ARN: pseudonymKey.arn };
    const review = { PB_REVIEW_AMOUNT_THRESHOLD: settings.reviewAmountThreshold };

    // Ingest merges facts and asks for the subject's evaluation; evaluate grants and notifies.
    const ingest = fn('ingest', Duration.seconds(QUEUES.agencyEvents.consumerTimeoutSeconds), {
      PB_QUEUE_URL_EVALUATIONS: queues.byId.evaluations.queue.queueUrl,
      ...pseudonyms,
    });
    const evaluate = fn('evaluate', Duration.seconds(QUEUES.evaluations.consumerTimeoutSeconds), {
      ...notificationsUrl,
      ...review,
    });
    // Backfill re-queues the rest of a segment when its time runs short, hence its own queue's URL.
    const backfill = fn('backfill', Duration.seconds(QUEUES.backfill.consumerTimeoutSeconds), {
      ...notificationsUrl,
      ...backfillUrl,
      ...review,
    });
    const notify = fn('notify', Duration.seconds(QUEUES.notifications.consumerTimeoutSeconds), {
      PB_NOTIFY_TOPIC_ARN: notifications.topic.topicArn,
      PB_NOTIFY_CONTACT: settings.notifyContact,
      PB_NOTIFY_LINK: settings.notifyLink,
    });
    // API Gateway waits at most 30 s for an integration; the CSV export is the slowest route. The
    // authoriser has verified the token already: the function only reads its claims.
    const reviewFn = fn('review-api', Duration.seconds(29), notificationsUrl);
    // Tick opens periods, and is the one function allowed to anchor ledger digests (writeDigest).
    const tick = fn('tick', Duration.seconds(60), {
      ...backfillUrl,
      PB_DIGEST_BUCKET: digests.bucket.bucketName,
    });
    // Cognito's pre token generation trigger: Cognito waits at most 5 s for it, cold start included.
    const preToken = fn('pre-token', Duration.seconds(5), pseudonyms);
    this.functions = {
      ingest,
      evaluate,
      backfill,
      notify,
      'review-api': reviewFn,
      tick,
      'pre-token': preToken,
    };

    // Who touches what. The ledger is append-only for everyone; only relayed outbox rows and
    // idempotency records are ever deleted (the relay deletes a row once it is on the queue).
    tables.grant(ingest, 'profiles', 'append');
    tables.grant(ingest, 'events', 'append');
    tables.grant(ingest, 'quarantine', 'append');
    // Evaluate and backfill put new decisions and flag granted ones inside their transactions, by key:
    // they never read decisions, so neither the table's items nor its indexes are readable to them.
    tables.grant(evaluate, 'profiles', 'append');
    tables.grant(evaluate, 'decisions', 'write');
    tables.grant(evaluate, 'ledger', 'append');
    tables.grant(evaluate, 'outbox', 'readWriteDelete');
    tables.grant(backfill, 'profiles', 'append', { scan: true });
    tables.grant(backfill, 'decisions', 'write');
    tables.grant(backfill, 'ledger', 'append');
    tables.grant(backfill, 'outbox', 'readWriteDelete');
    tables.grant(notify, 'deliveries', 'readWrite');
    tables.grant(notify, 'idempotency', 'readWriteDelete');
    tables.grant(reviewFn, 'decisions', 'readWrite');
    tables.grant(reviewFn, 'ledger', 'append');
    tables.grant(reviewFn, 'outbox', 'readWriteDelete');
    // Confirm and revoke append to the subject's ledger chain and move its head on the profile.
    tables.grant(reviewFn, 'profiles', 'readWrite');
    // A citizen's listing includes the decisions of the notices delivered to them (a guardian's wards).
    tables.grant(reviewFn, 'deliveries', 'read');
    // Tick sizes the fan-out from the profiles item count, and scans chain heads for the digest ...
    tables.grant(tick, 'profiles', 'read', { scan: true });
    // ... and records the latest digest beside the ledger: that one meta item, by update only.
    tables.grantItem(tick, 'meta', 'ledger-digest', ['dynamodb:UpdateItem']);
    // A retried invocation finds its period opening done (Powertools idempotency records).
    tables.grant(tick, 'idempotency', 'readWriteDelete');

    queues.consume(ingest, 'agencyEvents', { maxConcurrency: 20 });
    queues.consume(evaluate, 'evaluations', { maxConcurrency: 20 });
    queues.grantSend(ingest, 'evaluations');
    queues.consume(notify, 'notifications', { maxConcurrency: 5 });
    // Backfill scans whole segments; a low cap keeps it from starving ingest of DynamoDB capacity.
    queues.consume(backfill, 'backfill', { maxConcurrency: 5 });
    for (const producer of [evaluate, backfill, reviewFn]) queues.grantSend(producer, 'notifications');
    for (const producer of [tick, backfill]) queues.grantSend(producer, 'backfill');

    // Only ingest (the numbers in agency events) and pre-token (a citizen's own number, at sign-in)
    // pseudonymise identity numbers.
    pseudonymKey.grantRead(ingest);
    pseudonymKey.grantRead(preToken);
    digests.grantWriteDigests(tick.role!);
    notifications.grantPublish(notify);

    // The console: hosted here (S3 + CloudFront, which also routes /api/* to the API) with
    // -c hostConsole=true, or elsewhere (consoleUrl). The hosted console's URL is the distribution's,
    // made after the API it routes to: the client's callback reads it lazily.
    let site: ConsoleSite | undefined;
    const hosted = settings.hostConsole;
    const web =
      settings.console ??
      (hosted
        ? {
            url: Lazy.string({ produce: () => site?.url }),
            authDomainPrefix: hosted.authDomainPrefix,
          }
        : undefined);
    const api = new ReviewApi(this, 'ReviewApi', {
      settings,
      handler: reviewFn,
      preToken,
      logKey: keys.data,
      web,
    });
    if (hosted && api.domain) {
      site = new ConsoleSite(this, 'Console', {
        settings,
        authDomainPrefix: hosted.authDomainPrefix,
        api: api.api,
        domain: hosted.domain,
      });
      site.publish({
        apiBase: 'api',
        auth: { domain: api.domain.baseUrl(), clientId: api.client.userPoolClientId },
      });
    }

    const opening = new PeriodOpening(this, 'PeriodOpening', { settings, tick, key: keys.messaging });
    // The Scheduler invokes tick asynchronously: an invocation that runs and fails (a timeout, the
    // digest) is retried twice by Lambda and then lands in the same dead-letter queue.
    // (SqsDestination would grant kms:ReEncrypt* and GenerateDataKey*: the two actions needed instead.)
    tick.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: { bind: () => ({ destination: opening.dlq.queueArn }) },
    });
    tick.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [opening.dlq.queueArn] }),
    );
    keys.messaging.grant(tick, 'kms:GenerateDataKey', 'kms:Decrypt');
    const alarms = new EngineAlarms(this, 'Alarms', {
      settings,
      key: keys.messaging,
      queues: queues.byId,
      functions: this.functions,
      tables: tables.byId,
      periodOpeningDlq: opening.dlq,
    });

    // What operators and publishers need after a deploy (docs/deploy.md).
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ReviewApiUrl', api.api.apiEndpoint, 'Base URL of the review API (routes under /api)');
    output('UserPoolId', api.userPool.userPoolId, 'Cognito user pool of reviewers, auditors and citizens');
    output('UserPoolClientId', api.client.userPoolClientId, 'App client whose tokens the API accepts');
    output('AgencyEventsQueueUrl', queues.byId.agencyEvents.queue.queueUrl, 'Where agencies publish events');
    output('NotificationsTopicArn', notifications.topic.topicArn, 'Subscribe the delivery gateway here');
    output('AlarmTopicArn', alarms.topic.topicArn, 'Subscribe the on-call address here');
    output('DigestBucketName', digests.bucket.bucketName, 'Object-locked ledger digests');
    if (api.domain) {
      output(
        'ConsoleAuthDomain',
        api.domain.baseUrl(),
        'Managed-login domain: auth.domain of the console config.js (with UserPoolClientId as auth.clientId)',
      );
    }
    if (site) {
      output('ConsoleUrl', site.url, 'The review console; reviewers sign in there');
      if (hosted?.domain) {
        output(
          'ConsoleDistributionDomain',
          site.distribution.distributionDomainName,
          `Point ${hosted.domain.name} here (a CNAME, or an alias record)`,
        );
      }
    }
    output(
      'PseudonymKeySecretArn',
      pseudonymKey.secret.secretArn,
      'The pseudonym key, for PB_PSEUDONYM_SECRET_ARN of the pb command line',
    );
  }
}

/** Drops unset optional variables: the config loader's defaults apply to those. */
function defined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
