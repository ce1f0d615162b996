import { resetClients } from '../adapters/aws.ts';
import { fixedClock } from '../clock.ts';
import { type QueueId, QUEUES } from '../resources.ts';
import { resetRuntime, setClock } from '../runtime/engine.ts';
import { resetNotifyRuntime } from '../runtime/notify.ts';
import { type Consumers, functionHandlers } from './pipeline.ts';
import { applyEnv, type LocalQueue, type LocalStackOptions, startLocalStack } from './stack.ts';

/** A local engine: the stack, its queues, and the real handlers wired to it. */
export interface LocalEngine {
  queues: Record<QueueId, LocalQueue>;
  consumers: Consumers;
  /** True when this session started the stack (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

const envKey = (id: string): string => id.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Queues of an already running stack, when the environment names them all. */
function runningQueues(): Record<QueueId, LocalQueue> | undefined {
  const out = {} as Record<QueueId, LocalQueue>;
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    const url = process.env[`PB_QUEUE_URL_${envKey(id)}`];
    const dlqUrl = process.env[`PB_DLQ_URL_${envKey(id)}`];
    if (!url || !dlqUrl || !process.env.AWS_ENDPOINT_URL_DYNAMODB) return undefined;
    out[id] = { url, dlqUrl, maxReceiveCount: 5 };
  }
  return out;
}

/**
 * Starts the local stack unless the environment already points at a running one, points this
 * process's engine at it, and sets the engine's clock (`now`, when given).
 */
export async function openLocalEngine(
  opts: LocalStackOptions & { now?: string; reuseRunning?: boolean } = {},
): Promise<LocalEngine> {
  const running = opts.reuseRunning === false ? undefined : runningQueues();
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
  if (opts.now) setClock(fixedClock(opts.now));
  const consumers = await functionHandlers();
  return { queues, consumers, started: !running, stop };
}
