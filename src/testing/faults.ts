/**
 * Fault injection for the engine's AWS clients. A {@link FaultInjector} attaches two middlewares to
 * a DynamoDB or SQS client (the low-level DynamoDB client carries the document client built on it):
 *
 * - the call layer (`initialize` step, outside the SDK's retry loop) numbers every logical call
 *   the engine makes and can fail the k-th one before it is sent (nothing reached the service) or
 *   after it was answered (the service applied it, the caller sees an error): the caller gets the
 *   error as if the SDK had given up, or the function had been stopped at that point;
 * - the attempt layer (`deserialize` step, inside the retry loop) fails single HTTP attempts, so
 *   the SDK's own retry strategy (maxAttempts 4, throttling backoff) handles them as it would in
 *   AWS: a throttle, or a timeout after the service applied the request (the SDK then sends the
 *   same request again, idempotency token included).
 *
 * Nothing here changes what the engine does; it only changes what the clients answer.
 */
import { DynamoDBServiceException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import { prng } from './prng.ts';

/** Which AWS service a client talks to. */
export type Service = 'dynamodb' | 'sqs';

/** One logical call as the call layer saw it. */
export interface CallInfo {
  /** 1-based number among the calls counted while the injector was enabled. */
  n: number;
  service: Service;
  /** Operation name, e.g. `TransactWriteItems`, `SendMessageBatch`. */
  operation: string;
  /** Tables or queues (last name segment) the call touches. */
  targets: string[];
  /** The command input as the low-level client sends it (marshalled for DynamoDB). */
  input: unknown;
  /** HTTP attempts made so far (the attempt layer counts them). */
  attempts: number;
  /** The handler that made the call, when the runner names it (see {@link FaultInjector.phase}). */
  phase?: string;
}

/** What a fault throws. */
export type FaultError = 'network' | 'timeout' | 'throttle' | 'capacity';

/** One fault: which calls, where, what error. */
export interface Fault {
  /** Fire on the call with this number (see {@link CallInfo.n}). */
  at?: number;
  /** Fire on calls this predicate accepts (with `at`: both must hold). */
  when?: (call: CallInfo) => boolean;
  /** `before`: the request never reaches the service; `after`: it was applied, the answer is lost. */
  point: 'before' | 'after';
  error: FaultError;
  /** `call`: the engine sees the error; `attempt`: the SDK's retry strategy sees it first. */
  layer: 'call' | 'attempt';
  /** Attempt layer: how many attempts of each matching call fail (default 1; Infinity: all). */
  attempts?: number;
  /** Fraction of matching calls that fault (seeded, see {@link FaultInjector}); default 1. */
  rate?: number;
  /**
   * Call layer: the function stops at this point, as when Lambda times out or the process dies:
   * every later call of this process fails too until {@link FaultInjector.endInvocation}, and the
   * invocation fails as a whole (see {@link crashAware}).
   */
  crash?: boolean;
  /** Stop after firing this many times (default: 1 with `at`, unlimited otherwise). */
  limit?: number;
}

/** A fault that fired, for reports. */
export interface FiredFault {
  call: number;
  phase?: string;
  service: Service;
  operation: string;
  targets: string[];
  point: 'before' | 'after';
  error: FaultError;
  layer: 'call' | 'attempt';
  attempt?: number;
}

/** Counters kept while enabled. */
export interface FaultStats {
  calls: number;
  attempts: number;
  /** Attempts the SDK made beyond the first (its retries). */
  retries: number;
  fired: number;
  byOperation: Record<string, number>;
}

const CONTEXT_KEY = '__pbFaultCall';

/** The error a fault throws: shaped like the SDK's own, so retry classification sees the real thing. */
export function faultError(kind: FaultError | 'crash', service: Service, what: string): Error {
  const $metadata = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };
  switch (kind) {
    case 'network': {
      // What Node's http client raises when the connection is refused: a transient error by code.
      const e = new Error(`connect ECONNREFUSED (injected fault before ${what})`) as Error & { code: string };
      e.code = 'ECONNREFUSED';
      return e;
    }
    case 'timeout': {
      const e = new Error(`socket timed out waiting for the response to ${what} (injected fault)`);
      e.name = 'TimeoutError';
      return e;
    }
    case 'throttle':
      return service === 'dynamodb'
        ? new DynamoDBServiceException({
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata,
            message: `Rate of requests exceeds the allowed throughput (injected on ${what})`,
          })
        : new SQSServiceException({
            name: 'ThrottlingException',
            $fault: 'client',
            $metadata,
            message: `Rate exceeded (injected on ${what})`,
          });
    case 'capacity':
      return service === 'dynamodb'
        ? new ProvisionedThroughputExceededException({
            $metadata,
            message: `The level of configured provisioned throughput for the table was exceeded (injected on ${what})`,
          })
        : new SQSServiceException({
            name: 'RequestThrottled',
            $fault: 'client',
            $metadata,
            message: `Request throttled (injected on ${what})`,
          });
    case 'crash': {
      const e = new Error(`function stopped (injected crash) before ${what}`);
      e.name = 'InjectedCrash';
      return e;
    }
  }
}

/** Tables or queue names a command input touches. */
export function targetsOf(service: Service, input: unknown): string[] {
  const out = new Set<string>();
  const i = (input ?? {}) as Record<string, unknown>;
  if (service === 'sqs') {
    if (typeof i.QueueUrl === 'string') out.add(i.QueueUrl.split('/').at(-1) ?? i.QueueUrl);
    if (typeof i.QueueName === 'string') out.add(i.QueueName);
    return [...out];
  }
  if (typeof i.TableName === 'string') out.add(i.TableName);
  if (i.RequestItems && typeof i.RequestItems === 'object')
    for (const t of Object.keys(i.RequestItems)) out.add(t);
  if (Array.isArray(i.TransactItems)) {
    for (const item of i.TransactItems as Array<Record<string, { TableName?: string }>>) {
      for (const op of Object.values(item)) if (op?.TableName) out.add(op.TableName);
    }
  }
  return [...out];
}

interface MiddlewareStackLike {
  add(middleware: unknown, options: Record<string, unknown>): void;
}

/** Anything with a Smithy middleware stack (every AWS SDK v3 client). */
export interface InstrumentableClient {
  middlewareStack: unknown;
}

type Next = (args: { input: unknown; request?: unknown }) => Promise<{ output: unknown; response: unknown }>;
type Ctx = Record<string, unknown> & { commandName?: string };

/**
 * Numbers the engine's calls and fails the ones its faults pick. One injector may instrument
 * several clients (DynamoDB and SQS share the numbering). Disabled, it passes everything through
 * uncounted, so tests can set up and read state through the same clients.
 */
export class FaultInjector {
  enabled = false;
  /** Set by a crash fault; every call fails until {@link endInvocation}. */
  crashed = false;
  faults: Fault[] = [];
  readonly trace: CallInfo[] = [];
  readonly fired: FiredFault[] = [];
  stats: FaultStats = { calls: 0, attempts: 0, retries: 0, fired: 0, byOperation: {} };
  /** Keep call inputs in the trace (memory: off for long runs). */
  keepInputs = false;
  /** Which handler is running (set by a sequential runner), recorded with each call. */
  phase: string | undefined;
  private random: () => number;
  private firedBy = new Map<Fault, number>();
  private decidedFor = new WeakMap<CallInfo, Map<Fault, boolean>>();

  constructor(seed = 1) {
    this.random = prng(seed);
  }

  /** Starts a new run: new faults, counters at zero, enabled. */
  arm(faults: Fault[], seed = 1): void {
    this.faults = faults;
    this.random = prng(seed);
    this.firedBy.clear();
    this.trace.length = 0;
    this.fired.length = 0;
    this.stats = { calls: 0, attempts: 0, retries: 0, fired: 0, byOperation: {} };
    this.crashed = false;
    this.phase = undefined;
    this.enabled = true;
  }

  /** Stops counting and injecting. */
  disarm(): void {
    this.enabled = false;
    this.crashed = false;
  }

  /** The invocation that crashed has ended; the next one starts on a fresh "process". Returns whether it had crashed. */
  endInvocation(): boolean {
    const was = this.crashed;
    this.crashed = false;
    return was;
  }

  /** Attaches the call and attempt layers to a client. Attach each client once. */
  attach<C extends InstrumentableClient>(client: C, service: Service): C {
    const stack = client.middlewareStack as MiddlewareStackLike;
    stack.add(
      (next: Next, context: Ctx) => async (args: { input: unknown }) => {
        if (!this.enabled) return next(args);
        const call: CallInfo = {
          n: ++this.stats.calls,
          service,
          operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
          targets: targetsOf(service, args.input),
          input: args.input,
          attempts: 0,
          ...(this.phase ? { phase: this.phase } : {}),
        };
        this.stats.byOperation[`${service}:${call.operation}`] =
          (this.stats.byOperation[`${service}:${call.operation}`] ?? 0) + 1;
        this.trace.push(this.keepInputs ? call : { ...call, input: undefined });
        context[CONTEXT_KEY] = call;
        const what = `${service} ${call.operation} #${call.n}`;
        if (this.crashed) throw faultError('crash', service, what);
        const fault = this.pick(call, 'call');
        if (fault?.point === 'before') this.fire(fault, call, what);
        const out = await next(args);
        if (fault?.point === 'after') this.fire(fault, call, what);
        return out;
      },
      { step: 'initialize', priority: 'low', name: 'pbFaultCallLayer', override: true },
    );
    stack.add(
      (next: Next, context: Ctx) => async (args: { input: unknown; request?: unknown }) => {
        const call = context[CONTEXT_KEY] as CallInfo | undefined;
        if (!this.enabled || !call) return next(args);
        call.attempts++;
        this.stats.attempts++;
        if (call.attempts > 1) this.stats.retries++;
        const what = `${service} ${call.operation} #${call.n} attempt ${call.attempts}`;
        if (this.crashed) throw faultError('crash', service, what);
        const fault = this.pick(call, 'attempt');
        if (fault?.point === 'before') this.fire(fault, call, what);
        const out = await next(args);
        if (fault?.point === 'after') this.fire(fault, call, what);
        return out;
      },
      { step: 'deserialize', priority: 'low', name: 'pbFaultAttemptLayer', override: true },
    );
    return client;
  }

  private pick(call: CallInfo, layer: 'call' | 'attempt'): Fault | undefined {
    for (const f of this.faults) {
      if (f.layer !== layer) continue;
      if (f.at !== undefined && f.at !== call.n) continue;
      if (f.when && !f.when(call)) continue;
      const limit = f.limit ?? (f.at !== undefined ? 1 : Number.POSITIVE_INFINITY);
      if ((this.firedBy.get(f) ?? 0) >= limit) continue;
      if (layer === 'attempt' && call.attempts > (f.attempts ?? 1)) continue;
      // A call is in or out of a rate-limited fault once, not per attempt.
      let decided = this.decidedFor.get(call);
      if (!decided) {
        decided = new Map();
        this.decidedFor.set(call, decided);
      }
      if (!decided.has(f)) decided.set(f, f.rate === undefined || this.random() < f.rate);
      if (!decided.get(f)) continue;
      return f;
    }
    return undefined;
  }

  private fire(f: Fault, call: CallInfo, what: string): never {
    this.firedBy.set(f, (this.firedBy.get(f) ?? 0) + 1);
    this.stats.fired++;
    this.fired.push({
      call: call.n,
      ...(call.phase ? { phase: call.phase } : {}),
      service: call.service,
      operation: call.operation,
      targets: call.targets,
      point: f.point,
      error: f.error,
      layer: f.layer,
      ...(f.layer === 'attempt' ? { attempt: call.attempts } : {}),
    });
    if (f.crash) this.crashed = true;
    throw faultError(f.error, call.service, what);
  }
}

/** A Lambda-style SQS handler. */
type Handler<E, C, R> = (event: E, context: C) => Promise<R>;

/**
 * Wraps a handler so that an invocation during which a crash fault fired fails as a whole, as a
 * Lambda invocation that timed out or died does: SQS then redelivers the whole batch.
 */
export function crashAware<E, C, R>(injector: FaultInjector, handler: Handler<E, C, R>): Handler<E, C, R> {
  return async (event, context) => {
    let result: R | undefined;
    let error: unknown;
    try {
      result = await handler(event, context);
    } catch (e) {
      error = e;
    }
    if (injector.endInvocation()) throw new Error('invocation crashed (injected)');
    if (error !== undefined) throw error;
    return result as R;
  };
}
