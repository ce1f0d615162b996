import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource, nagArn } from './nag.ts';
import type { Settings } from './settings.ts';

/**
 * Periods open at midnight Beijing time on the 1st of each month (1 January included): an
 * EventBridge Scheduler schedule invokes the tick function with the scheduled time, through a role
 * that can invoke nothing else.
 */
export class PeriodOpening extends Construct {
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: { settings: Settings; tick: lambda.IFunction }) {
    super(scope, id);
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
      }),
    });
  }
}
