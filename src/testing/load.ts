/**
 * Load generation and measurement: a generated event stream delivered 1–3 times per event in
 * random order, handler latency per record, DynamoDB requests and consumed capacity per event.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { generateEvents } from '../domain/events/generate.ts';
import type { SqsHandler } from '../local/poller.ts';
import type { InstrumentableClient } from './faults.ts';
import { prng } from './prng.ts';

/**
 * The first `count` events of `pb events generate`'s stream (about 1.2 events per person and 4.2
 * per enterprise: 0.55 persons and 0.11 enterprises per event are enough, with room to spare).
 */
export function loadStream(count: number, seed: string): string[] {
  const out: string[] = [];
  for (const line of generateEvents({
    persons: Math.ceil(count * 0.55),
    enterprises: Math.ceil(count * 0.11),
    seed,
  })) {
    out.push(line);
    if (out.length === count) break;
  }
  if (out.length < count) throw new Error(`the generator gave ${out.length} events, fewer than ${count}`);
  return out;
}

/** Each body 1–3 times (seeded), shuffled: what an at-least-once, unordered queue may deliver. */
export function deliveries(bodies: readonly string[], seed: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (const b of bodies) {
    const copies = 1 + Math.floor(rnd() * 3);
    for (let c = 0; c < copies; c++) out.push(b);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Queues bodies with several SendMessageBatch calls in flight; returns how many were sent. */
export async function sendAll(
  sqs: SQSClient,
  url: string,
  bodies: readonly string[],
  opts: { parallel?: number; onProgress?: (sent: number) => void } = {},
): Promise<number> {
  let next = 0;
  let sent = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 10;
      if (start >= bodies.length) return;
      const chunk = bodies.slice(start, start + 10);
      const r = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((b, j) => ({
            Id: String(j),
            MessageBody: b,
            MessageAttributes: { line: { DataType: 'Number', StringValue: String(start + j + 1) } },
          })),
        }),
      );
      if (r.Failed && r.Failed.length > 0) throw new Error(`queueing failed: ${r.Failed[0]!.Message}`);
      sent += chunk.length;
      opts.onProgress?.(sent);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 8 }, worker));
  return sent;
}

/** Percentile of a sorted sample (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Handler latency per record: each record is charged the duration of the invocation that processed it. */
export class LatencyMeter {
  private samples: number[] = [];
  invocations = 0;
  records = 0;
  /** Sum of invocation durations (ms): the handler's busy time. */
  busyMs = 0;

  /** Wraps a handler so each invocation is timed. */
  wrap(handler: SqsHandler): SqsHandler {
    return async (event, context) => {
      const t0 = performance.now();
      try {
        return await handler(event, context);
      } finally {
        const ms = performance.now() - t0;
        this.invocations++;
        this.records += event.Records.length;
        this.busyMs += ms;
        for (let i = 0; i < event.Records.length; i++) this.samples.push(ms);
      }
    };
  }

  /** p50 and p99 (ms) over records. */
  summary(): { p50: number; p99: number; records: number; invocations: number; busyMs: number } {
    const sorted = Float64Array.from(this.samples).sort();
    return {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      records: this.records,
      invocations: this.invocations,
      busyMs: this.busyMs,
    };
  }
}

/** Operations that accept ReturnConsumedCapacity. */
const CAPACITY_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** Requests and consumed capacity of a DynamoDB client, by operation. */
export interface DynamoUsage {
  requests: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  readUnits: number;
  writeUnits: number;
  byOperation: Record<string, { requests: number; units: number }>;
  /** Failed requests by operation and error name (after the SDK's retries). */
  errors: Record<string, number>;
}

/**
 * Counts a DynamoDB client's requests and the capacity they consumed: a middleware asks every
 * request for `ReturnConsumedCapacity: TOTAL` and adds up what comes back (DynamoDB Local reports
 * it as DynamoDB does). Read and write units are told apart by operation.
 */
export class DynamoMeter {
  enabled = true;
  usage: DynamoUsage = { requests: 0, attempts: 0, readUnits: 0, writeUnits: 0, byOperation: {}, errors: {} };

  reset(): void {
    this.usage = { requests: 0, attempts: 0, readUnits: 0, writeUnits: 0, byOperation: {}, errors: {} };
  }

  attach<C extends InstrumentableClient>(client: C): C {
    const stack = client.middlewareStack as { add(m: unknown, o: Record<string, unknown>): void };
    type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
    stack.add(
      (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        if (!this.enabled) return next(args);
        const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        if (CAPACITY_OPS.has(op) && args.input.ReturnConsumedCapacity === undefined)
          args.input = { ...args.input, ReturnConsumedCapacity: 'TOTAL' };
        const u = this.usage;
        u.requests++;
        u.byOperation[op] ??= { requests: 0, units: 0 };
        u.byOperation[op].requests++;
        let result: { output: Record<string, unknown> };
        try {
          result = await next(args);
        } catch (e) {
          // Conditional writes that lose (duplicates, version conflicts) are part of the design.
          const name = `${op}: ${(e as Error).name}`;
          u.errors[name] = (u.errors[name] ?? 0) + 1;
          throw e;
        }
        const cc = result.output.ConsumedCapacity as
          | { CapacityUnits?: number }
          | Array<{ CapacityUnits?: number }>
          | undefined;
        const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce(
          (n, c) => n + (c.CapacityUnits ?? 0),
          0,
        );
        if (READ_OPS.has(op)) u.readUnits += units;
        else u.writeUnits += units;
        u.byOperation[op].units += units;
        return result;
      },
      { step: 'initialize', priority: 'low', name: 'pbDynamoMeter', override: true },
    );
    stack.add(
      (next: (a: unknown) => Promise<unknown>) => async (args: unknown) => {
        if (this.enabled) this.usage.attempts++;
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'pbDynamoMeterAttempts', override: true },
    );
    return client;
  }
}
