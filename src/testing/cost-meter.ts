/**
 * A request meter for `npm run cost`: counts what the engine asks of AWS while the real handlers
 * run on the local stack, and prices it at list prices.
 *
 * - DynamoDB: middleware on the engine's client sets `ReturnConsumedCapacity` (`INDEXES`: the total
 *   with its table/index split) on every data-plane call and reads the capacity back. DynamoDB Local
 *   returns capacity for calls that succeed; for calls that fail (conditional checks, cancelled
 *   transactions) it returns none, so those units are computed from the item sizes in the request.
 *   Every call is also computed, as a cross-check of the measured figure.
 * - SQS: middleware counts commands per client role (agency producer, engine, event-source mapping)
 *   and bills each request per 64 KB chunk of its payload.
 * - Lambda: handler wrappers count invocations and time them; GB-seconds are the millisecond-rounded
 *   durations times the configured memory. An `AsyncLocalStorage` names the function behind every
 *   AWS call and log line, so requests can be attributed to ingest, evaluate or notify.
 *
 * The pricing functions are pure, so the arithmetic has unit tests of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsHandler } from '../local/poller.ts';
import { type TableDef, TABLES } from '../resources.ts';

// ---------------------------------------------------------------------------------------------
// Prices and the pure arithmetic.

/** One list price: `usd` for `per` units. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  region: string;
  asOf: string;
  source: string;
  since?: string;
  note?: string;
}

/** The dimensions the meter prices. */
export type PriceKey =
  | 'dynamodbWriteRequestUnit'
  | 'dynamodbReadRequestUnit'
  | 'sqsRequest'
  | 'lambdaRequest'
  | 'lambdaGbSecondArm'
  | 'snsPublish'
  | 'cloudwatchLogsIngestedGb'
  | 'xrayTraceRecorded'
  | 'kmsRequest';

/** The price file (`scripts/prices.json`). */
export interface PriceList {
  region: string;
  currency: string;
  asOf: string;
  prices: Record<PriceKey, Price>;
}

/** Checks a parsed price file: every dimension present with a positive price, region, date and source. */
export function validatePriceList(value: unknown): PriceList {
  const list = value as PriceList;
  if (!list || typeof list !== 'object' || !list.prices) throw new Error('price file: no "prices" object');
  if (list.currency !== 'USD') throw new Error(`price file: currency ${list.currency}, expected USD`);
  const keys: PriceKey[] = [
    'dynamodbWriteRequestUnit',
    'dynamodbReadRequestUnit',
    'sqsRequest',
    'lambdaRequest',
    'lambdaGbSecondArm',
    'snsPublish',
    'cloudwatchLogsIngestedGb',
    'xrayTraceRecorded',
    'kmsRequest',
  ];
  for (const k of keys) {
    const p = list.prices[k];
    if (!p) throw new Error(`price file: missing ${k}`);
    if (!(p.usd > 0) || !(p.per > 0)) throw new Error(`price file: ${k} needs positive usd and per`);
    if (!p.region || !p.asOf || !/^https:\/\//.test(p.source ?? ''))
      throw new Error(`price file: ${k} needs region, asOf and an https source`);
  }
  return list;
}

/** USD for a quantity at a price. */
export const usdFor = (quantity: number, price: Price): number => (quantity * price.usd) / price.per;

/** SQS and SNS bill each 64 KB chunk of a request's payload as one request (at least one). */
export const billedChunks = (payloadBytes: number): number => Math.max(1, Math.ceil(payloadBytes / 65_536));

/** Lambda bills duration rounded up to the millisecond (at least 1 ms). */
export const billedMs = (durationMs: number): number => Math.max(1, Math.ceil(durationMs));

/** GB-seconds of a billed duration at a memory size. */
export const gbSeconds = (billedMilliseconds: number, memoryMb: number): number =>
  (billedMilliseconds / 1000) * (memoryMb / 1024);

/** Write request units of one item write: 1 per started KB, doubled inside a transaction. */
export const writeUnits = (itemBytes: number, transactional: boolean): number =>
  Math.max(1, Math.ceil(itemBytes / 1024)) * (transactional ? 2 : 1);

/** Read request units of reading `bytes` (one item, or one Query page's sum), 4 KB steps. */
export const readUnits = (bytes: number, mode: 'eventual' | 'strong' | 'transactional'): number =>
  Math.max(1, Math.ceil(bytes / 4096)) * (mode === 'eventual' ? 0.5 : mode === 'strong' ? 1 : 2);

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Bytes of a DynamoDB number: about one per two significant digits, plus one. */
export function numberSize(n: string): number {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '');
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

type AttributeValue = Record<string, unknown>;

/** Size of one attribute value in DynamoDB's wire form (`{ S: ... }`, `{ M: ... }`, ...). */
export function attributeValueSize(v: AttributeValue): number {
  if ('S' in v) return utf8(String(v.S));
  if ('N' in v) return numberSize(String(v.N));
  if ('B' in v) return (v.B as Uint8Array).length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return (v.SS as string[]).reduce((a, s) => a + utf8(s), 0);
  if ('NS' in v) return (v.NS as string[]).reduce((a, s) => a + numberSize(s), 0);
  if ('BS' in v) return (v.BS as Uint8Array[]).reduce((a, b) => a + b.length, 0);
  if ('L' in v) return 3 + (v.L as AttributeValue[]).reduce((a, e) => a + 1 + attributeValueSize(e), 0);
  if ('M' in v)
    return (
      3 +
      Object.entries(v.M as Record<string, AttributeValue>).reduce(
        (a, [k, e]) => a + 1 + utf8(k) + attributeValueSize(e),
        0,
      )
    );
  return 0;
}

/** Size of an item in wire form: attribute names plus values. */
export const wireItemSize = (item: Record<string, AttributeValue> | undefined): number =>
  item ? Object.entries(item).reduce((a, [k, v]) => a + utf8(k) + attributeValueSize(v), 0) : 0;

/** Size of a plain JavaScript value as the document client would store it. */
export function plainValueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberSize(String(v));
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((a: number, e) => a + plainValueSize(e), 0);
  if (Array.isArray(v)) return 3 + v.reduce((a: number, e) => a + 1 + plainValueSize(e), 0);
  if (typeof v === 'object')
    return 3 + Object.entries(v).reduce((a, [k, e]) => a + 1 + utf8(k) + plainValueSize(e), 0);
  return 0;
}

/** Size of an item as plain JavaScript (document client output). */
export const plainItemSize = (item: Record<string, unknown> | undefined): number =>
  item ? Object.entries(item).reduce((a, [k, v]) => a + utf8(k) + plainValueSize(v), 0) : 0;

// ---------------------------------------------------------------------------------------------
// Usage counters.

/** Request units, read and write. */
export interface Units {
  rru: number;
  wru: number;
}

/** DynamoDB calls of one kind (function, operation, tables). */
export interface DynamoStats {
  requests: number;
  /** Calls that failed (conditional check, cancelled transaction, throttling...). */
  failed: number;
  /** Calls for which DynamoDB returned consumed capacity. */
  withCapacity: number;
  /** Units DynamoDB reported (calls with capacity only). */
  measured: Units;
  /** Units computed from item sizes (every call). */
  computed: Units;
  /** Units priced: measured where reported, computed otherwise. */
  priced: Units;
  /** Measured units by table and index (`decisions`, `decisions/byRef`), from `INDEXES` capacity. */
  byIndex: Record<string, number>;
  /** Items the calls put, by table: count and total bytes (DynamoDB's item size). */
  itemsPut: Record<string, { items: number; bytes: number }>;
}

/** SQS calls of one kind (client role, function, operation). */
export interface SqsStats {
  requests: number;
  /** Requests as billed: 64 KB chunks of payload. */
  billed: number;
  messages: number;
  /** Receives that returned nothing. */
  empty: number;
}

/** Invocations of one function. */
export interface LambdaStats {
  invocations: number;
  records: number;
  durationMs: number;
  billedMs: number;
  maxMs: number;
}

/** Everything counted during one phase. */
export interface Usage {
  /** Keyed `function\toperation\ttables`. */
  dynamo: Record<string, DynamoStats>;
  /** Keyed `role\tfunction\toperation`. */
  sqs: Record<string, SqsStats>;
  lambda: Record<string, LambdaStats>;
  sns: { publishes: number; billed: number; bytes: number };
  /** Log lines the handlers wrote (what Lambda would ship to CloudWatch Logs), per function. */
  logs: Record<string, { lines: number; bytes: number }>;
}

const emptyUsage = (): Usage => ({
  dynamo: {},
  sqs: {},
  lambda: {},
  sns: { publishes: 0, billed: 0, bytes: 0 },
  logs: {},
});

const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const CAPACITY_OPS = new Set([
  ...READ_OPS,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** The engine's table definition behind a physical table name (`<prefix>-<id>`). */
function tableDef(name: string): TableDef | undefined {
  return (Object.values(TABLES) as TableDef[]).find((d) => name.endsWith(`-${d.id}`));
}

/** Short table name for reports: the logical id. */
const shortTable = (name: string): string => tableDef(name)?.id ?? name;

/** Sizes of the items a write call puts, by table (for reports). */
type Written = Array<{ table: string; bytes: number }>;

/** WRU of writing `item` (wire form) to `table`, its global secondary indexes included. */
function putUnits(
  table: string,
  item: Record<string, AttributeValue>,
  transactional: boolean,
  written: Written,
): number {
  const size = wireItemSize(item);
  written.push({ table: shortTable(table), bytes: size });
  let units = writeUnits(size, transactional);
  // Projection ALL: an index holding the item stores all of it. DynamoDB Local doubles index
  // writes inside transactions too; the computed figure follows it so the two can be compared.
  for (const ix of tableDef(table)?.indexes ?? []) {
    if (ix.partitionKey.name in item && (!ix.sortKey || ix.sortKey.name in item)) {
      units += writeUnits(size, transactional);
    }
  }
  return units;
}

type Input = Record<string, unknown>;

/** Units of a write call computed from its request (wire form); reads are computed from the response. */
function computeWrite(op: string, input: Input, written: Written): number {
  switch (op) {
    case 'PutItem':
      return putUnits(String(input.TableName), input.Item as Record<string, AttributeValue>, false, written);
    case 'UpdateItem':
    case 'DeleteItem': {
      // The stored item's size is not in the request: the key and new values are a lower bound.
      const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
      return writeUnits(
        wireItemSize(input.Key as Record<string, AttributeValue>) + wireItemSize(values),
        false,
      );
    }
    case 'BatchWriteItem': {
      let units = 0;
      for (const [table, reqs] of Object.entries((input.RequestItems ?? {}) as Record<string, Input[]>)) {
        for (const r of reqs) {
          const put = r.PutRequest as Input | undefined;
          units += put ? putUnits(table, put.Item as Record<string, AttributeValue>, false, written) : 1;
        }
      }
      return units;
    }
    case 'TransactWriteItems': {
      let units = 0;
      for (const action of (input.TransactItems ?? []) as Input[]) {
        const put = action.Put as Input | undefined;
        if (put)
          units += putUnits(String(put.TableName), put.Item as Record<string, AttributeValue>, true, written);
        else {
          const a = (action.Update ?? action.Delete ?? action.ConditionCheck) as Input;
          const values = (a.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;
          units += writeUnits(
            wireItemSize(a.Key as Record<string, AttributeValue>) + wireItemSize(values),
            true,
          );
        }
      }
      return units;
    }
    default:
      return 0;
  }
}

/** RRU of a read call computed from its response. */
function computeRead(op: string, input: Input, output: Input | undefined, plain: boolean): number {
  const size = (item: unknown) =>
    plain
      ? plainItemSize(item as Record<string, unknown>)
      : wireItemSize(item as Record<string, AttributeValue>);
  const mode = input.ConsistentRead ? 'strong' : 'eventual';
  switch (op) {
    case 'GetItem':
      return readUnits(size(output?.Item), mode);
    case 'Query':
    case 'Scan':
      // A page is billed on the sum of its item sizes, rounded up once.
      return readUnits(
        ((output?.Items ?? []) as unknown[]).reduce((a: number, i) => a + size(i), 0),
        mode,
      );
    case 'BatchGetItem': {
      // Each item is billed on its own size, rounded up, with its table's read consistency.
      let units = 0;
      const asked = (input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>;
      for (const [table, items] of Object.entries((output?.Responses ?? {}) as Record<string, unknown[]>)) {
        const consistency = asked[table]?.ConsistentRead ? 'strong' : 'eventual';
        for (const item of items) units += readUnits(size(item), consistency);
      }
      return units;
    }
    default:
      return 0;
  }
}

/** Sum of `CapacityUnits` in a `ConsumedCapacity` (one object, or one per table). */
function reportedUnits(cc: unknown): number | undefined {
  if (!cc) return undefined;
  const list = (Array.isArray(cc) ? cc : [cc]) as Array<{ CapacityUnits?: number }>;
  if (list.length === 0) return undefined;
  return list.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0);
}

/** Adds `INDEXES` capacity to a per-table/per-index tally. */
function addByIndex(into: Record<string, number>, cc: unknown): void {
  if (!cc) return;
  type Part = { CapacityUnits?: number };
  for (const c of (Array.isArray(cc) ? cc : [cc]) as Array<{
    TableName?: string;
    Table?: Part;
    GlobalSecondaryIndexes?: Record<string, Part>;
  }>) {
    const t = shortTable(c.TableName ?? '?');
    if (c.Table?.CapacityUnits) into[t] = (into[t] ?? 0) + c.Table.CapacityUnits;
    for (const [ix, part] of Object.entries(c.GlobalSecondaryIndexes ?? {})) {
      if (part.CapacityUnits) into[`${t}/${ix}`] = (into[`${t}/${ix}`] ?? 0) + part.CapacityUnits;
    }
  }
}

/** The tables a call touches, for attribution (`events+profiles`). */
function tablesOf(op: string, input: Input): string {
  const names = new Set<string>();
  if (typeof input.TableName === 'string') names.add(shortTable(input.TableName));
  if (input.RequestItems) for (const t of Object.keys(input.RequestItems)) names.add(shortTable(t));
  if (op === 'TransactWriteItems' || op === 'TransactGetItems') {
    for (const a of (input.TransactItems ?? []) as Input[]) {
      for (const v of Object.values(a)) {
        const t = (v as Input | undefined)?.TableName;
        if (typeof t === 'string') names.add(shortTable(t));
      }
    }
  }
  return [...names].sort().join('+');
}

/** Bytes of an SQS message as billed: body plus attribute names, types and values. */
function messageBytes(body: unknown, attrs: unknown): number {
  let n = utf8(String(body ?? ''));
  for (const [k, v] of Object.entries((attrs ?? {}) as Record<string, Input>)) {
    n += utf8(k) + utf8(String(v.DataType ?? '')) + utf8(String(v.StringValue ?? ''));
  }
  return n;
}

/** Who made a call: the function running (attributed through async context), else `-`. */
const running = new AsyncLocalStorage<string>();

/** Counts requests to AWS and prices them; see the module comment. */
export class CostMeter {
  private usage: Usage = emptyUsage();
  private readonly computedWrites = new WeakMap<object, { wru: number; tables: string; written: Written }>();
  private restoreLogs: (() => void) | undefined;

  /** The usage counted since the last {@link take} (or since creation), and a fresh start. */
  take(): Usage {
    const u = this.usage;
    this.usage = emptyUsage();
    return u;
  }

  private dynamoStats(key: string): DynamoStats {
    const zero = (): Units => ({ rru: 0, wru: 0 });
    this.usage.dynamo[key] ??= {
      requests: 0,
      failed: 0,
      withCapacity: 0,
      measured: zero(),
      computed: zero(),
      priced: zero(),
      byIndex: {},
      itemsPut: {},
    };
    return this.usage.dynamo[key];
  }

  private sqsStats(key: string): SqsStats {
    this.usage.sqs[key] ??= { requests: 0, billed: 0, messages: 0, empty: 0 };
    return this.usage.sqs[key];
  }

  /**
   * Instruments a DynamoDB client (the document client shares its middleware stack): asks for
   * consumed capacity on every data-plane call and counts it.
   */
  instrumentDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? '').replace(/Command$/, '');
        if (!CAPACITY_OPS.has(op)) return next(args);
        const input = { ...(args.input as Input), ReturnConsumedCapacity: 'INDEXES' };
        let output: Input | undefined;
        let failed = false;
        try {
          const r = await next({ ...args, input });
          output = r.output as unknown as Input;
          return r;
        } catch (e) {
          failed = true;
          throw e;
        } finally {
          const computed = this.computedWrites.get(context);
          // The document client marks its calls; their responses arrive as plain JavaScript.
          const plain =
            (context as { __aws_sdk_context?: { features?: Record<string, unknown> } }).__aws_sdk_context
              ?.features?.DDB_MAPPER !== undefined;
          const tables = computed?.tables ?? tablesOf(op, input);
          const s = this.dynamoStats(`${running.getStore() ?? '-'}\t${op}\t${tables}`);
          s.requests++;
          if (failed) s.failed++;
          const isRead = READ_OPS.has(op);
          const comp: Units = isRead
            ? { rru: failed ? 0 : computeRead(op, input, output, plain), wru: 0 }
            : { rru: 0, wru: computed?.wru ?? 0 };
          const reported = failed ? undefined : reportedUnits(output?.ConsumedCapacity);
          s.computed.rru += comp.rru;
          s.computed.wru += comp.wru;
          for (const w of computed?.written ?? []) {
            s.itemsPut[w.table] ??= { items: 0, bytes: 0 };
            s.itemsPut[w.table]!.items++;
            s.itemsPut[w.table]!.bytes += w.bytes;
          }
          if (!failed) addByIndex(s.byIndex, output?.ConsumedCapacity);
          if (reported !== undefined) {
            s.withCapacity++;
            if (isRead) {
              s.measured.rru += reported;
              s.priced.rru += reported;
            } else {
              s.measured.wru += reported;
              s.priced.wru += reported;
            }
          } else {
            s.priced.rru += comp.rru;
            s.priced.wru += comp.wru;
          }
        }
      },
      { step: 'initialize', name: 'pbCostMeterCapacity', priority: 'high', override: true },
    );
    // After serialisation every input is in wire form (the document client marshalls in the
    // serialize step), which is what item sizes are defined on.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? '').replace(/Command$/, '');
        if (CAPACITY_OPS.has(op) && !READ_OPS.has(op)) {
          const input = args.input as Input;
          const written: Written = [];
          const wru = computeWrite(op, input, written);
          this.computedWrites.set(context, { wru, tables: tablesOf(op, input), written });
        }
        return next(args);
      },
      { step: 'build', name: 'pbCostMeterSizes', priority: 'high', override: true },
    );
  }

  /** Instruments an SQS client playing one role (`agencies`, `engine`, `event-source mapping`). */
  instrumentSqs(client: SQSClient, role: string): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? '').replace(/Command$/, '');
        const input = args.input as Input;
        const r = await next(args);
        const out = r.output as unknown as Input;
        const s = this.sqsStats(`${role}\t${running.getStore() ?? '-'}\t${op}`);
        s.requests++;
        let bytes = 0;
        if (op === 'SendMessageBatch') {
          const entries = (input.Entries ?? []) as Input[];
          s.messages += entries.length;
          bytes = entries.reduce((a, e) => a + messageBytes(e.MessageBody, e.MessageAttributes), 0);
        } else if (op === 'SendMessage') {
          s.messages++;
          bytes = messageBytes(input.MessageBody, input.MessageAttributes);
        } else if (op === 'ReceiveMessage') {
          const msgs = (out.Messages ?? []) as Input[];
          s.messages += msgs.length;
          if (msgs.length === 0) s.empty++;
          bytes = msgs.reduce((a, m) => a + messageBytes(m.Body, m.MessageAttributes), 0);
        }
        s.billed += billedChunks(bytes);
        return r;
      },
      { step: 'initialize', name: 'pbCostMeterSqs', priority: 'high', override: true },
    );
  }

  /** Wraps a handler as Lambda would bill it: one invocation per call, its duration timed. */
  wrapHandler(fn: string, handler: SqsHandler): SqsHandler {
    return async (event, context) => {
      const started = performance.now();
      try {
        return await running.run(fn, () => handler(event, context));
      } finally {
        const ms = performance.now() - started;
        this.usage.lambda[fn] ??= { invocations: 0, records: 0, durationMs: 0, billedMs: 0, maxMs: 0 };
        const s = this.usage.lambda[fn];
        s.invocations++;
        s.records += event.Records.length;
        s.durationMs += ms;
        s.billedMs += billedMs(ms);
        s.maxMs = Math.max(s.maxMs, ms);
      }
    };
  }

  /** Counts one SNS publish of a message of `bytes` (the local channel stands in for SNS). */
  recordPublish(bytes: number): void {
    this.usage.sns.publishes++;
    this.usage.sns.billed += billedChunks(bytes);
    this.usage.sns.bytes += bytes;
  }

  /**
   * Captures what handlers write to stdout/stderr (their log lines, which Lambda ships to
   * CloudWatch Logs) and keeps it off the terminal; everything else passes through.
   */
  captureLogs(): void {
    if (this.restoreLogs) return;
    const patch = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const fn = running.getStore();
        if (fn === undefined) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        this.usage.logs[fn] ??= { lines: 0, bytes: 0 };
        const s = this.usage.logs[fn];
        for (const line of text.split('\n')) {
          if (line.length === 0) continue;
          s.lines++;
          s.bytes += utf8(line);
        }
        const cb = rest.find((a) => typeof a === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof stream.write;
      return () => {
        stream.write = original as typeof stream.write;
      };
    };
    const a = patch(process.stdout);
    const b = patch(process.stderr);
    this.restoreLogs = () => {
      a();
      b();
      this.restoreLogs = undefined;
    };
  }

  /** Lets log output through again. */
  releaseLogs(): void {
    this.restoreLogs?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Pricing a phase.

/** One priced line of the report. */
export interface CostLine {
  service: string;
  what: string;
  perEvent: number;
  unit: string;
  usdPerMillion: number;
  basis: 'measured' | 'computed' | 'measured + computed';
}

/** Assumptions that are not measured. */
export interface PricingOptions {
  /** Agency events the phase processed. */
  events: number;
  /** Configured memory of each function (MB). */
  memoryMb: (fn: string) => number;
  /** Share of invocations X-Ray records beyond the per-second reservoir (default rule: 5%). */
  xraySampleRate: number;
  /** CloudWatch Logs' billed overhead per log event (26 bytes). */
  logOverheadBytes: number;
}

/** A priced phase. */
export interface CostReport {
  lines: CostLine[];
  usdPerMillion: number;
  /** DynamoDB requests per event by operation (all functions). */
  dynamoRequestsPerEvent: Record<string, number>;
  dynamoRequestsPerEventTotal: number;
}

/** What each phase's usage costs per million events at the given prices. */
export function priceUsage(usage: Usage, prices: PriceList, opts: PricingOptions): CostReport {
  const n = opts.events;
  if (!(n > 0)) throw new Error('priceUsage: no events');
  const p = prices.prices;
  const perM = (quantity: number, price: Price) => usdFor((quantity / n) * 1_000_000, price);
  const lines: CostLine[] = [];
  const line = (
    service: string,
    what: string,
    quantity: number,
    unit: string,
    price: Price,
    basis: CostLine['basis'],
  ) =>
    lines.push({ service, what, perEvent: quantity / n, unit, usdPerMillion: perM(quantity, price), basis });

  const dyn = Object.values(usage.dynamo);
  const sum = (f: (s: DynamoStats) => number) => dyn.reduce((a, s) => a + f(s), 0);
  const anyComputed = dyn.some((s) => s.withCapacity < s.requests);
  const anyMeasured = dyn.some((s) => s.withCapacity > 0);
  const dynBasis: CostLine['basis'] =
    anyMeasured && anyComputed ? 'measured + computed' : anyMeasured ? 'measured' : 'computed';
  line(
    'DynamoDB',
    'write request units',
    sum((s) => s.priced.wru),
    'WRU',
    p.dynamodbWriteRequestUnit,
    dynBasis,
  );
  line(
    'DynamoDB',
    'read request units',
    sum((s) => s.priced.rru),
    'RRU',
    p.dynamodbReadRequestUnit,
    dynBasis,
  );

  const byRole = new Map<string, number>();
  for (const [key, s] of Object.entries(usage.sqs)) {
    const [role, , op] = key.split('\t');
    // Empty receives are the local poller finding a queue drained; Lambda's long polls while a
    // queue is idle are a fixed monthly cost, not a cost per event.
    const billed = op === 'ReceiveMessage' ? s.billed - s.empty : s.billed;
    if (op === 'GetQueueAttributes' || op === 'GetQueueUrl') continue;
    byRole.set(role!, (byRole.get(role!) ?? 0) + billed);
  }
  for (const [role, billed] of byRole) line('SQS', role, billed, 'requests', p.sqsRequest, 'measured');

  const fns = Object.entries(usage.lambda);
  const invocations = fns.reduce((a, [, s]) => a + s.invocations, 0);
  const gbs = fns.reduce((a, [fn, s]) => a + gbSeconds(s.billedMs, opts.memoryMb(fn)), 0);
  line('Lambda', 'invocations', invocations, 'requests', p.lambdaRequest, 'measured');
  line('Lambda', 'duration (Arm)', gbs, 'GB-s', p.lambdaGbSecondArm, 'measured');

  line('SNS', 'publishes', usage.sns.billed, 'requests', p.snsPublish, 'measured');

  const logs = Object.values(usage.logs);
  const logBytes = logs.reduce((a, s) => a + s.bytes + s.lines * opts.logOverheadBytes, 0);
  const perByte: Price = { ...p.cloudwatchLogsIngestedGb, per: p.cloudwatchLogsIngestedGb.per * 1024 ** 3 };
  line('CloudWatch Logs', 'ingestion', logBytes, 'bytes', perByte, 'measured');

  line(
    'X-Ray',
    'traces (sampled)',
    invocations * opts.xraySampleRate,
    'traces',
    p.xrayTraceRecorded,
    'computed',
  );

  const dynamoRequestsPerEvent: Record<string, number> = {};
  for (const [key, s] of Object.entries(usage.dynamo)) {
    const op = key.split('\t')[1]!;
    dynamoRequestsPerEvent[op] = (dynamoRequestsPerEvent[op] ?? 0) + s.requests / n;
  }
  return {
    lines,
    usdPerMillion: lines.reduce((a, l) => a + l.usdPerMillion, 0),
    dynamoRequestsPerEvent,
    dynamoRequestsPerEventTotal: sum((s) => s.requests) / n,
  };
}
