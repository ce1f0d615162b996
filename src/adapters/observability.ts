import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

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

export const metrics = new Metrics({ namespace: 'ProactiveBenefits', serviceName: 'proactive-benefits' });
