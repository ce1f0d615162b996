import type { BatchProcessor } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { IDENTITY_LIKE, maskIdentities } from '../domain/identity.ts';

/**
 * The one logger and metrics instance of the process. Log lines carry pseudonyms, event ids and
 * reasons only; raw identity numbers never reach them (they are pseudonymised before any log call).
 */
export const logger = new Logger({
  serviceName: 'proactive-benefits',
  logLevel:
    (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ??
    (process.env.AWS_LAMBDA_FUNCTION_NAME ? 'INFO' : 'WARN'),
});

// Outside Lambda (local stack, CLI) metrics would only print EMF lines on stdout.
if (!process.env.AWS_LAMBDA_FUNCTION_NAME && process.env.POWERTOOLS_METRICS_DISABLED === undefined) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
}

const metricsDisabled = ['1', 'true', 'yes', 'on'].includes(
  (process.env.POWERTOOLS_METRICS_DISABLED ?? '').toLowerCase(),
);

/**
 * The metrics' own warnings go through the logger; with metrics disabled (outside Lambda) a batch
 * has nothing to publish by design, and "No application metrics to publish" is not said for it.
 */
const metricsLogger = {
  trace: (...a: unknown[]) => logger.debug(String(a[0] ?? '')),
  debug: (...a: unknown[]) => logger.debug(String(a[0] ?? '')),
  info: (...a: unknown[]) => logger.info(String(a[0] ?? '')),
  warn: (...a: unknown[]) => {
    if (!metricsDisabled) logger.warn(String(a[0] ?? ''));
  },
  error: (...a: unknown[]) => logger.error(String(a[0] ?? '')),
};

export const metrics = new Metrics({
  namespace: 'ProactiveBenefits',
  serviceName: 'proactive-benefits',
  logger: metricsLogger,
});

/** Valid identity numbers (credit codes included) and identity-like runs of digits, masked. */
const maskIdentifiers = (text: string): string =>
  maskIdentities(text).replace(IDENTITY_LIKE, (run) => '*'.repeat(run.length));

/**
 * One ERROR line per record a batch failed (the batch processor keeps the errors without logging
 * them): the message id, how often SQS has delivered it, and the error. SQS delivers it again;
 * after the queue's maxReceiveCount it goes to the dead-letter queue, and this line is where the
 * operator finds why. Runs of digits that could be an identity number are masked in the error's
 * text, in case it quotes a payload.
 */
export function logRecordFailures(processor: BatchProcessor, queue: string): void {
  processor.failureMessages.forEach((m, i) => {
    const record = m as SQSRecord;
    const error = processor.errors[i];
    logger.error('record failed: SQS will deliver it again, and after maxReceiveCount to the DLQ', {
      queue,
      messageId: record.messageId,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
      error: {
        name: error?.name ?? 'Error',
        message: maskIdentifiers(String(error?.message ?? '')).slice(0, 500),
      },
    });
  });
}
