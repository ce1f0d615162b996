import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { docClient, sqsClient } from '../src/adapters/aws.ts';
import { logger } from '../src/adapters/observability.ts';
import { SqsOutboxRelay } from '../src/adapters/sqs/relay.ts';
import { DynamoReviewStore } from '../src/api/dynamo-store.ts';
import { createReviewApi, type ReviewApiHandler } from '../src/api/router.ts';
import type { PolicyInfo } from '../src/api/view.ts';
import { runtimeClock, runtimeConfig, runtimePolicies } from '../src/runtime/engine.ts';

/**
 * Review API entry point (API Gateway HTTP API, payload 2.0, Cognito JWT authoriser). Wiring only:
 * the routes live in src/api/router.ts. Dependencies are built on the first request, after the
 * local adapter or the Lambda environment has set the endpoints.
 */
let api: ReviewApiHandler | undefined;

/** The published policy as the API shows it; undefined when the rule files do not know it. */
function policyInfo(id: string): PolicyInfo | undefined {
  let policies: ReturnType<typeof runtimePolicies>['policies'];
  try {
    policies = runtimePolicies().policies;
  } catch (e) {
    // A broken rule set must not stop reviewers from reading decisions; titles fall back to ids.
    logger.error('rule files could not be loaded for the review API', { error: e as Error });
    return undefined;
  }
  const p = policies.find((x) => x.id === id);
  return p
    ? {
        id: p.id,
        version: p.version,
        title: p.title,
        legalReference: p.legalReference,
        reviewSampleRate: p.reviewSampleRate,
      }
    : undefined;
}

function build(): ReviewApiHandler {
  const config = runtimeConfig();
  const doc = docClient();
  return createReviewApi({
    store: new DynamoReviewStore(doc, config),
    relay: new SqsOutboxRelay(sqsClient(), doc, config),
    now: () => runtimeClock().now(),
    policy: policyInfo,
    logError: (message, error) => logger.error(message, { error: error as Error }),
  });
}

/** Forgets the built dependencies (tests that point the process at a new local stack). */
export function resetReviewApi(): void {
  api = undefined;
}

export const handler = async (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
): Promise<APIGatewayProxyStructuredResultV2> => {
  api ??= build();
  return api(event);
};
