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

/** The published policies as the API shows them; none when the rule files cannot be read. */
function policyInfos(): PolicyInfo[] {
  try {
    const set = runtimePolicies();
    const parameterUnits = Object.fromEntries(
      [...set.params].flatMap(([name, p]) => (p.unit ? [[name, p.unit] as const] : [])),
    );
    return set.policies.map((p) => ({
      id: p.id,
      version: p.version,
      title: p.title,
      legalReference: p.legalReference,
      reviewSampleRate: p.reviewSampleRate,
      parameterUnits,
    }));
  } catch (e) {
    // A broken rule set must not stop reviewers from reading decisions; titles fall back to ids.
    logger.error('rule files could not be loaded for the review API', { error: e as Error });
    return [];
  }
}

function build(): ReviewApiHandler {
  const config = runtimeConfig();
  const doc = docClient();
  return createReviewApi({
    store: new DynamoReviewStore(doc, config),
    relay: new SqsOutboxRelay(sqsClient(), doc, config),
    now: () => runtimeClock().now(),
    policies: policyInfos,
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
