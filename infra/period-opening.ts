import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource, nagArn } from './nag.ts';
import type { Settings } from './settings.ts';

/**
 * Periods open at midnight Beijing time on the 1st of each month (1 January included): an
 * EventBridge Scheduler schedule invokes the tick function with the scheduled time, through a role
 * that can invoke nothing else. An invocation the Scheduler gives up on (retries or age exhausted)
 * lands in a dead-letter queue whose depth raises an alarm, instead of vanishing: the period would
 * otherwise open only at the next event about each subject. (The stack sends a tick that ran and
 * failed, after Lambda's asynchronous retries, to the same queue.)
 */
export class PeriodOpening extends Construct {
  readonly schedule: scheduler.Schedule;
  /** Scheduled invocations of tick that the Scheduler dropped after its retries. */
  readonly dlq: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    props: { settings: Settings; tick: lambda.IFunction; key: kms.IKey },
  ) {
    super(scope, id);
    this.dlq = new sqs.Queue(this, 'Dlq', {
      queueName: `${props.settings.prefix}-period-opening-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is the Scheduler target's dead-letter queue (nag sees only queue-to-queue redrives); an operator reads it, nothing consumes it.",
    });
    const role = new iam.Role(this, 'Role', {
      description: `${props.settings.prefix}: EventBridge Scheduler invokes the tick function`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    acknowledgeWildcardResource(
      role,
      `${nagArn(props.tick)}:*`,
      'LambdaInvoke grants invoke on the tick function and its versions (ARN:*); this role can invoke nothing else.',
    );
    // The target adds sqs:SendMessage on the DLQ; the queue is encrypted, so the role encrypts for it.
    props.key.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: `${props.settings.prefix}-period-opening`,
      description: 'Opens the new period: tick fans out backfill segments over all profiles',
      schedule: scheduler.ScheduleExpression.cron({
        minute: '0',
        hour: '0',
        day: '1',
        month: '*',
        timeZone: TimeZone.ASIA_SHANGHAI,
      }),
      target: new targets.LambdaInvoke(props.tick, {
        role,
        // The scheduled time, not the invocation time: a retried invocation opens the same period.
        input: scheduler.ScheduleTargetInput.fromObject({ time: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
        deadLetterQueue: this.dlq,
      }),
    });
  }
}
