/**
 * Wrappers around the real SQS handlers, each playing one part of Lambda's event-source mapping
 * or of an operator's experiment; the handlers themselves run unchanged.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SqsHandler } from '../local/poller.ts';

/**
 * One record per invocation, in queue order: an event-source mapping with BatchSize 1. Makes the
 * order of the engine's calls repeatable, so "the k-th call" names the same call in every run.
 */
export function oneAtATime(handler: SqsHandler): SqsHandler {
  return async (event, context) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const single: SQSEvent = { Records: [record] };
      try {
        const r = await handler(single, context);
        failures.push(...((r ?? undefined)?.batchItemFailures ?? []));
      } catch {
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

/**
 * Gives the handler a Lambda context with a short function timeout. Powertools idempotency keeps
 * an in-progress record until the invocation's deadline; with a short deadline, a test can wait
 * for redelivery as AWS does (visibility timeout longer than the function timeout) in seconds
 * instead of minutes.
 */
export function withTimeout(handler: SqsHandler, timeoutMs: number): SqsHandler {
  return async (event, context) => {
    const started = Date.now();
    return handler(event, {
      ...context,
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    });
  };
}

/**
 * A handler fault for some bodies: records the predicate picks fail every time (a poison message,
 * e.g. one that trips a bug), the others reach the real handler. `seen` counts each poison
 * message's deliveries by message id.
 */
export function poisoned(
  handler: SqsHandler,
  isPoison: (body: string) => boolean,
  seen: Map<string, number> = new Map(),
): SqsHandler {
  return async (event, context) => {
    const poison = event.Records.filter((r) => isPoison(r.body));
    for (const r of poison) seen.set(r.messageId, (seen.get(r.messageId) ?? 0) + 1);
    const rest = event.Records.filter((r) => !isPoison(r.body));
    const r = rest.length > 0 ? await handler({ Records: rest }, context) : undefined;
    return {
      batchItemFailures: [
        ...poison.map((p) => ({ itemIdentifier: p.messageId })),
        ...((r ?? undefined)?.batchItemFailures ?? []),
      ],
    };
  };
}
