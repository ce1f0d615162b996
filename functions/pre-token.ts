import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { logger } from '../src/adapters/observability.ts';
import { subjectClaims } from '../src/api/subject-claim.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { readPseudonymKeySecret } from '../src/runtime/pseudonym-secret.ts';

let config: Config | undefined;
let primed: Promise<Buffer> | undefined;

/**
 * The engine's pseudonym key: from Secrets Manager when `PB_PSEUDONYM_SECRET_ARN` is set (AWS,
 * fetched once per environment, on the first token that needs it), else from the environment or
 * key file exactly as the engine reads it locally. Only this function's own modules are bundled
 * (no engine composition root): Cognito waits five seconds for the trigger, cold start included.
 */
function pseudonymKey(): Promise<Buffer> {
  primed ??= (async () => {
    config ??= loadConfig();
    const arn = process.env.PB_PSEUDONYM_SECRET_ARN;
    if (arn) config.primePseudonymKey(await readPseudonymKeySecret(arn));
    return config.pseudonymKey();
  })().catch((e: Error) => {
    primed = undefined;
    logger.error('pseudonym key unavailable', { error: e });
    // Cognito shows the message to the client: nothing about the key or the account in it.
    throw new Error('sign-in is temporarily unavailable; try again later');
  });
  return primed;
}

/**
 * Cognito pre token generation trigger (event version 2): puts the citizen's subject pseudonym in
 * the `pb:subject` claim of the ID and access tokens (src/api/subject-claim.ts). One log line per
 * token issued; the event itself is never logged, it carries the account's attributes.
 */
const lambdaHandler = async (event: PreTokenGenerationV2TriggerEvent) => {
  const result = await subjectClaims(event, pseudonymKey);
  logger[result.log.level](result.log.message, { ...result.log.fields, trigger: event.triggerSource });
  event.response = result.response;
  return event;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
