/**
 * The step-k fault sweep: run a stream once without faults, number the engine's calls along the
 * ingest → grant → notify path, then for each k (and each mode) run it again with the k-th call
 * failing, let SQS redeliver, and compare the final state with the fault-free run's.
 */
import { dynamoClient, setClients, sqsClient } from '../adapters/aws.ts';
import type { Config } from '../config.ts';
import type { QueueId } from '../resources.ts';
import type { Consumers, DrainTotals } from '../local/pipeline.ts';
import type { SqsHandler } from '../local/poller.ts';
import { oneAtATime, withTimeout } from './consumers.ts';
import { drainWithRedelivery } from './drain.ts';
import { executionEnvironments } from './environments.ts';
import {
  type CallInfo,
  crashAware,
  type Fault,
  FaultInjector,
  type FaultStats,
  type FiredFault,
} from './faults.ts';
import {
  asLines,
  type CleanClients,
  compareStates,
  type EngineSlice,
  type EngineState,
  engineState,
  resetState,
  sameDecisions,
} from './harness.ts';
import { sendLines } from '../local/pipeline.ts';

/**
 * How the k-th call fails:
 * - `before`: a network error before the request is sent; the engine sees it.
 * - `after`: the service applied the request, the answer is lost (timeout); the engine sees it.
 * - `after-retried`: as `after`, but inside the SDK's retry loop: the SDK sends the same request
 *   again (DynamoDB transactions carry an idempotency token; other writes must be idempotent).
 * - `crash`: the function stops right after the k-th call was applied: every later call of that
 *   invocation fails and the invocation fails as a whole (Lambda timeout, process death).
 */
export type SweepMode = 'before' | 'after' | 'after-retried' | 'crash';

/** Every mode, in the order reports list them. */
export const SWEEP_MODES: readonly SweepMode[] = ['before', 'after', 'after-retried', 'crash'];

/** The fault of one sweep run. */
export function sweepFault(mode: SweepMode, k: number): Fault {
  switch (mode) {
    case 'before':
      return { at: k, point: 'before', error: 'network', layer: 'call' };
    case 'after':
      return { at: k, point: 'after', error: 'timeout', layer: 'call' };
    case 'after-retried':
      return { at: k, point: 'after', error: 'timeout', layer: 'attempt' };
    case 'crash':
      return { at: k, point: 'after', error: 'timeout', layer: 'call', crash: true };
  }
}

/**
 * The function timeout the handlers believe they have, and how long a failed message stays
 * invisible before SQS delivers it again (in AWS: 30 s and the 180 s visibility timeout).
 *
 * - Powertools idempotency keeps a notification's record "in progress" until the invocation's
 *   deadline: a redelivered notification must come after that deadline, or it fails again.
 * - Under throttling the SDK's retry quota (500 tokens, 5 per throttled retry) runs dry; a message
 *   redelivered at once then fails each of its receives within a second and is dead-lettered, where
 *   AWS would have spaced the receives by the visibility timeout and the quota would have refilled.
 * - Middy ends an invocation at its deadline, so the timeout must exceed what a batch can take
 *   (SDK backoff included).
 */
export interface Timing {
  functionTimeoutMs: number;
  /** Seconds a failed message stays invisible, per queue (absent: 0, as with `drainQueues`). */
  redeliverySeconds: Partial<Record<QueueId, number>>;
}

/**
 * One record per invocation, one fault per run: a few calls, well under a second. Only the notify
 * function keeps in-progress state, so only its messages wait.
 */
export const SWEEP_TIMING: Timing = { functionTimeoutMs: 800, redeliverySeconds: { notifications: 1 } };

/** Whole batches without throttling (a handler fault, a poison message): only notifications wait. */
export const QUICK_TIMING: Timing = { functionTimeoutMs: 10_000, redeliverySeconds: { notifications: 10 } };

/** Whole batches under throttling (backoff up to 1 + 2 + 4 s per call): every queue waits. */
export const BATCH_TIMING: Timing = {
  functionTimeoutMs: 10_000,
  redeliverySeconds: { agencyEvents: 5, evaluations: 5, notifications: 10, backfill: 5 },
};

/** Everything a sweep run needs. */
export interface SweepContext {
  slice: EngineSlice;
  clients: CleanClients;
  cfg: Config;
  injector: FaultInjector;
  /** The stream (one body per event). */
  bodies: readonly string[];
}

/**
 * Instruments the engine's own clients (the ones `src/adapters/aws.ts` builds) with an injector
 * and installs them through `setClients`. Call once per process, after the environment is set.
 */
export function installInjector(injector = new FaultInjector()): FaultInjector {
  const dynamo = injector.attach(dynamoClient(), 'dynamodb');
  const sqs = injector.attach(sqsClient(), 'sqs');
  setClients({ dynamo, sqs });
  return injector;
}

/** The real handlers, one record per invocation, with the sweep's function timeout and crash semantics. */
export function sweepConsumers(
  slice: EngineSlice,
  injector: FaultInjector,
  timing = SWEEP_TIMING,
): Consumers {
  const out: Consumers = {};
  for (const [id, h] of Object.entries(slice.consumers) as Array<[keyof Consumers, SqsHandler | undefined]>) {
    if (!h) continue;
    const named: SqsHandler = (event, context) => {
      injector.phase = id;
      return h(event, context);
    };
    out[id] = oneAtATime(withTimeout(crashAware(injector, named), timing.functionTimeoutMs));
  }
  return out;
}

/**
 * The real handlers as Lambda runs them (whole batches, records in parallel), in `n` execution
 * environments (one per poller, see `executionEnvironments`), with the given function timeout.
 */
export async function batchEnvironments(n: number, timing = BATCH_TIMING): Promise<Consumers[]> {
  return (await executionEnvironments(n)).map((env) => {
    const out: Consumers = {};
    for (const [id, h] of Object.entries(env) as Array<[keyof Consumers, SqsHandler | undefined]>) {
      if (h) out[id] = withTimeout(h, timing.functionTimeoutMs);
    }
    return out;
  });
}

/** Wraps one consumer of every environment (to count, poison or time its records). */
export function wrapConsumer(
  envs: readonly Consumers[],
  id: keyof Consumers,
  wrap: (h: SqsHandler) => SqsHandler,
): Consumers[] {
  return envs.map((env) => (env[id] ? { ...env, [id]: wrap(env[id]) } : env));
}

/** What one run did and left. */
export interface RunResult {
  state: EngineState;
  fired: FiredFault[];
  stats: FaultStats;
  trace: CallInfo[];
  totals: DrainTotals;
  ms: number;
}

/** How a run plays Lambda's part. */
export interface RunOptions {
  /** Seed of rate-limited faults. */
  seed?: number;
  /** Default: {@link sweepConsumers} (one record per invocation); a list: one per poller. */
  consumers?: Consumers | Consumers[];
  /** Pollers per queue (default 1). */
  concurrency?: number;
  /** Default: {@link BATCH_TIMING} with given consumers, else {@link SWEEP_TIMING}. */
  timing?: Timing;
}

/** Runs the stream from empty tables and queues with the given faults armed. */
export async function runWithFaults(
  ctx: SweepContext,
  faults: Fault[],
  opts: RunOptions & { keepState?: boolean } = {},
): Promise<RunResult> {
  const { slice, clients, cfg } = ctx;
  if (!opts.keepState) await resetState(slice, clients, cfg);
  await sendLines(clients.sqs, slice.queues.agencyEvents.url, asLines(ctx.bodies));
  return drainWithFaults(ctx, faults, opts);
}

/** Plays Lambda's part over what is queued, with the given faults armed, and reads the state. */
export async function drainWithFaults(
  ctx: SweepContext,
  faults: Fault[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const { slice, clients, cfg, injector } = ctx;
  const timing = opts.timing ?? (opts.consumers ? BATCH_TIMING : SWEEP_TIMING);
  const started = Date.now();
  injector.arm(faults, opts.seed ?? 1);
  let totals: DrainTotals;
  try {
    const consumers = opts.consumers ?? sweepConsumers(slice, injector);
    totals = await drainWithRedelivery(slice.queues, consumers, {
      sqs: clients.sqs,
      concurrency: opts.concurrency ?? 1,
      retryDelaySeconds: timing.redeliverySeconds,
    });
  } finally {
    injector.disarm();
  }
  const ms = Date.now() - started;
  return {
    state: await engineState(slice, clients, cfg),
    fired: [...injector.fired],
    stats: injector.stats,
    trace: [...injector.trace],
    totals,
    ms,
  };
}

/** One sweep run's verdict. */
export interface SweepOutcome {
  mode: SweepMode;
  k: number;
  /** The call the fault was aimed at, as the fault-free run made it. */
  target: string;
  /** Faults that actually fired (0: the run took another path before reaching call k). */
  fired: number;
  /** Differences from the fault-free run (empty: converged). */
  differences: string[];
  /** The decisions are the very same tuples as in the fault-free run (order did not matter). */
  exact: boolean;
  redelivered: number;
  deadLettered: number;
  ms: number;
}

/** A call as reports name it: `agencyEvents: TransactWriteItems events,profiles`. */
export function describeCall(c: Pick<CallInfo, 'operation' | 'targets' | 'phase'>, prefix: string): string {
  const short = c.targets.map((t) => t.replace(`${prefix}-`, '')).join(',');
  return `${c.phase ? `${c.phase}: ` : ''}${c.operation}${short ? ` ${short}` : ''}`;
}

/**
 * A sample of steps that still reaches every kind of call: the first and the last call of each
 * (handler, operation, targets) in the fault-free trace. The fast tests run these; the proof runs all.
 */
export function representativeSteps(trace: readonly CallInfo[], prefix: string): number[] {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (const c of trace) {
    const key = describeCall(c, prefix);
    if (!first.has(key)) first.set(key, c.n);
    last.set(key, c.n);
  }
  return [...new Set([...first.values(), ...last.values()])].sort((a, b) => a - b);
}

/**
 * Runs the sweep: a fault-free run first (its state is the reference, its trace numbers the
 * calls), then one run per (mode, k).
 */
export async function sweep(
  ctx: SweepContext,
  opts: {
    modes?: readonly SweepMode[];
    /** Which k to run, given the fault-free trace (default: every call). */
    ks?: (trace: readonly CallInfo[]) => number[];
    onResult?: (o: SweepOutcome) => void;
  } = {},
): Promise<{ baseline: RunResult; outcomes: SweepOutcome[] }> {
  const baseline = await runWithFaults(ctx, []);
  if (baseline.state.problems.length > 0)
    throw new Error(`the fault-free run is already broken: ${baseline.state.problems.join('; ')}`);
  const calls = baseline.stats.calls;
  const ks = opts.ks?.(baseline.trace) ?? Array.from({ length: calls }, (_, i) => i + 1);
  const outcomes: SweepOutcome[] = [];
  for (const k of ks) {
    for (const mode of opts.modes ?? SWEEP_MODES) {
      const run = await runWithFaults(ctx, [sweepFault(mode, k)]);
      const target = baseline.trace[k - 1];
      const o: SweepOutcome = {
        mode,
        k,
        target: target ? describeCall(target, ctx.cfg.prefix) : '?',
        fired: run.fired.length,
        differences: compareStates(baseline.state, run.state),
        exact: sameDecisions(baseline.state, run.state),
        redelivered: Object.values(run.totals.perQueue).reduce((n, t) => n + (t?.failed ?? 0), 0),
        deadLettered: Object.values(run.totals.perQueue).reduce((n, t) => n + (t?.deadLettered ?? 0), 0),
        ms: run.ms,
      };
      outcomes.push(o);
      opts.onResult?.(o);
    }
  }
  return { baseline, outcomes };
}
