import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
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
 *   (`maxReceiveCount` x visibility timeout): the consumer is stuck or throttled.
 */
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
    ): void => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.settings.prefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
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
