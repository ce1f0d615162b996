import { resetClients, sqsClient } from '../adapters/aws.ts';
import { fixedClock } from '../clock.ts';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { dlqName, type QueueId, QUEUES, queueName } from '../resources.ts';
import { resetRuntime, setClock } from '../runtime/engine.ts';
import { resetNotifyRuntime } from '../runtime/notify.ts';
import { primeSecrets } from '../runtime/secrets.ts';
import { type Consumers, functionHandlers } from './pipeline.ts';
import { applyEnv, type LocalQueue, type LocalStackOptions, startLocalStack } from './stack.ts';

/** A local engine: the stack, its queues, and the real handlers wired to it. */
export interface LocalEngine {
  queues: Record<QueueId, LocalQueue>;
  consumers: Consumers;
  /** True when this session started the stack (and so stops it). */
  started: boolean;
  /**
   * True when this process may play the functions' part on the stack: one it started, or a local
   * stack whose environment (`provision`, `npm start`) names every queue URL. False for a stack
   * found by name (a deployed stage, LocalStack): its own functions consume its queues, with its
   * own configuration, key and clock, so a command only queues work there.
   */
  local: boolean;
  stop(): Promise<void>;
}

const envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/**
 * The variables that name a stack to talk to (endpoints, the name prefix, queue URLs) and are set.
 * When any is, a command works on that stack or fails: it never falls back to a local one, which
 * would run the command somewhere else than where the operator pointed it and report success.
 */
export function stackVariables(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.keys(env)
    .filter(
      (k) =>
        env[k] !== undefined &&
        env[k] !== '' &&
        (k === 'AWS_ENDPOINT_URL' ||
          k === 'AWS_ENDPOINT_URL_DYNAMODB' ||
          k === 'AWS_ENDPOINT_URL_SQS' ||
          k === 'PB_PREFIX' ||
          k.startsWith('PB_QUEUE_URL_') ||
          k.startsWith('PB_DLQ_URL_')),
    )
    .sort();
}

/**
 * The queues of the stack the environment names: each URL from `PB_QUEUE_URL_<ID>` /
 * `PB_DLQ_URL_<ID>`, else looked up by its name under `PB_PREFIX` (as deployed by the CDK app).
 * Undefined when the environment names no stack; an error naming the first queue that cannot be
 * found when it names one that cannot be reached.
 */
async function namedQueues(): Promise<Record<QueueId, LocalQueue> | undefined> {
  const named = stackVariables();
  if (named.length === 0) return undefined;
  const prefix = process.env.PB_PREFIX || 'pb-local';
  // The process's client, as the named stack's region and endpoint make it (reset afterwards).
  const sqs = sqsClient();
  const lookup = async (variable: string, name: string): Promise<string> => {
    const given = process.env[variable];
    if (given) return given;
    try {
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
      if (url) return url;
      throw new Error('no URL returned');
    } catch (e) {
      throw new Error(
        `the environment names a stack (${named.join(', ')}) but its queue ${name} cannot be found (${(e as Error).name === 'Error' ? (e as Error).message : (e as Error).name}): check AWS_REGION, the credentials and PB_PREFIX, or set ${variable}; unset ${named.join(', ')} to use the local stack`,
      );
    }
  };
  const out = {} as Record<QueueId, LocalQueue>;
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    out[id] = {
      url: await lookup(`PB_QUEUE_URL_${envKey(id)}`, queueName(prefix, id)),
      dlqUrl: await lookup(`PB_DLQ_URL_${envKey(id)}`, dlqName(prefix, id)),
      maxReceiveCount: QUEUES[id].maxReceiveCount,
    };
  }
  return out;
}

/**
 * Starts the local stack unless the environment names a stack (see {@link stackVariables}): then
 * works on that one, or fails when it cannot be found. Points this process's engine at it and sets
 * the engine's clock (`now`, when given).
 */
export async function openLocalEngine(
  opts: LocalStackOptions & { now?: string; reuseRunning?: boolean } = {},
): Promise<LocalEngine> {
  const explicit = (Object.keys(QUEUES) as QueueId[]).every(
    (id) => process.env[`PB_QUEUE_URL_${envKey(id)}`] && process.env[`PB_DLQ_URL_${envKey(id)}`],
  );
  const running = opts.reuseRunning === false ? undefined : await namedQueues();
  let stop = async () => {};
  let queues: Record<QueueId, LocalQueue>;
  if (running) queues = running;
  else {
    const stack = await startLocalStack(opts);
    applyEnv(stack.env);
    queues = stack.queues;
    stop = stack.stop;
  }
  resetClients();
  resetRuntime();
  resetNotifyRuntime();
  // Against a deployed stage the pseudonym key is in Secrets Manager; the new runtime needs it too.
  await primeSecrets();
  if (opts.now) setClock(fixedClock(opts.now));
  const consumers = await functionHandlers();
  return { queues, consumers, started: !running, local: !running || explicit, stop };
}
