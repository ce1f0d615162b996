import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqName, type QueueId, QUEUES, queueName, visibilityTimeoutSeconds } from '../src/resources.ts';
import type { EngineQueue } from './queues.ts';
import type { Settings } from './settings.ts';

/**
 * The alarms operators act on, all to one KMS-encrypted, TLS-only SNS topic (subscribe the on-call
 * address or chat hook to it after deploying):
 * - a message in any dead-letter queue (an event or notification that exhausted its retries);
 * - any error of any function;
 * - a source queue whose oldest message is older than its whole retry budget
 *   (`maxReceiveCount` x visibility timeout): the consumer is stuck or throttled;
 * - more than {@link REJECTED_EVENTS_THRESHOLD} agency events rejected in 15 minutes (the ingest
 *   function's `EventsRejected` metric): an agency's events stopped fitting the contract. Rejected
 *   events are kept in the quarantine and never reach a DLQ, so no other alarm sees them;
 * - a scheduled period opening the Scheduler dropped after its retries (its dead-letter queue);
 * - a table throttling requests in three 5-minute periods in a row ({@link THROTTLE_PERIODS}): the
 *   SDK's retries absorb a burst, sustained throttling ends in failed batches and DLQ messages.
 */
/** Rejected agency events in 15 minutes above which the operator is told. */
export const REJECTED_EVENTS_THRESHOLD = 10;
/** Consecutive 5-minute periods with throttled requests on a table before the operator is told. */
export const THROTTLE_PERIODS = 3;

export class EngineAlarms extends Construct {
  readonly topic: sns.Topic;

  constructor(
    scope: Construct,
    id: string,
    props: {
      settings: Settings;
      key: kms.IKey;
      queues: Record<QueueId, EngineQueue>;
      functions: Record<string, lambda.IFunction>;
      tables: Record<string, dynamodb.ITable>;
      periodOpeningDlq: sqs.IQueue;
    },
  ) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${props.settings.prefix}-alarms`,
      masterKey: props.key,
      enforceSSL: true,
    });
    const action = new actions.SnsAction(this.topic);
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
    ): void => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.settings.prefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm: evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
    };
    const period = Duration.minutes(5);
    for (const qid of Object.keys(props.queues) as QueueId[]) {
      const { queue, dlq } = props.queues[qid];
      const def = QUEUES[qid];
      alarm(
        `${def.id}-dlq-depth`,
        dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        0,
        `Messages in ${dlqName(props.settings.prefix, qid)}: they exhausted ${def.maxReceiveCount} receives; inspect, fix, redrive.`,
      );
      const budget = def.maxReceiveCount * visibilityTimeoutSeconds(def);
      alarm(
        `${def.id}-oldest-message-age`,
        queue.metricApproximateAgeOfOldestMessage({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        budget,
        `Oldest message in ${queueName(props.settings.prefix, qid)} is older than its retry budget (${budget}s): the consumer is stuck or throttled.`,
      );
    }
    alarm(
      'events-rejected',
      new cloudwatch.Metric({
        namespace: 'ProactiveBenefits',
        metricName: 'EventsRejected',
        dimensionsMap: { service: 'proactive-benefits' },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(15),
      }),
      REJECTED_EVENTS_THRESHOLD,
      `More than ${REJECTED_EVENTS_THRESHOLD} agency events rejected in 15 minutes: an agency's events no longer fit the contract. pb quarantine list shows them with their reasons.`,
    );
    alarm(
      'period-opening-dropped',
      props.periodOpeningDlq.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      0,
      'A scheduled period opening was dropped after the Scheduler retries: invoke the tick function by hand with the scheduled time (docs/deploy.md, "A missed period opening"), then purge the queue.',
    );
    for (const [name, table] of Object.entries(props.tables)) {
      const reads = table.metric('ReadThrottleEvents', { period, statistic: cloudwatch.Stats.SUM });
      const writes = table.metric('WriteThrottleEvents', { period, statistic: cloudwatch.Stats.SUM });
      alarm(
        `${name}-throttled`,
        new cloudwatch.MathExpression({
          expression: 'FILL(r, 0) + FILL(w, 0)',
          usingMetrics: { r: reads, w: writes },
          period,
          label: `${name} throttled requests`,
        }),
        0,
        `The ${name} table throttled requests for ${THROTTLE_PERIODS * 5} minutes: batches fail and retry, and end in a DLQ if it lasts. Check hot keys and the on-demand maximum throughput; lower the event-source maximum concurrency if a backfill is running.`,
        THROTTLE_PERIODS,
      );
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}-errors`,
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        0,
        `The ${name} function failed (errors, timeouts or crashes); see its log group.`,
      );
    }
  }
}
