/**
 * `npm run cost [-- --events N --seed S ...]`: what one million agency events cost on AWS.
 *
 * Starts the local stack (DynamoDB Local + fauxqs), sends a generated stream to the agency-events
 * queue and drains it with the real handlers, metering every request they make
 * (src/testing/cost-meter.ts): DynamoDB requests and consumed capacity (`ReturnConsumedCapacity`
 * on every call), SQS requests per 64 KB chunk, Lambda invocations and GB-seconds, SNS publishes
 * and log bytes. Then it sends two streams that grant nothing (the same facts again under new ids;
 * exact redeliveries) and counts DynamoDB requests per such event. Prices come from one documented
 * file (scripts/prices.json). Exits 1 when a target is missed:
 *
 * - at most 1.50 USD per million events;
 * - at most 3 DynamoDB requests for an event that grants nothing.
 *
 * Options:
 *   --events N        about N events (scales persons and enterprises 4:1); default: the 2,000
 *                     persons + 500 enterprises stream
 *   --persons N, --enterprises N   the population instead of --events
 *   --seed S          generator seed (default `cost`)
 *   --no-grant N      events in each grant-nothing stream (default 500)
 *   --now ISO         the engine's clock (default 2026-10-01T10:00:00+08:00: after every filing)
 *   --order time|generated   send in occurredAt order (default: agencies publish as things
 *                     happen) or in generation order (each subject's events together)
 *   --concurrency N   pollers per queue (default 1: durations are then not inflated by handlers
 *                     sharing the CPU)
 *   --prices FILE     price file (default scripts/prices.json)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { OutgoingNotification } from '../src/domain/notify/deliver.ts';
import {
  CostMeter,
  type CostReport,
  type PriceList,
  priceUsage,
  type Usage,
  validatePriceList,
} from '../src/testing/cost-meter.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TARGET_USD_PER_MILLION = 1.5;
const TARGET_NO_GRANT_REQUESTS = 3;
const XRAY_SAMPLE_RATE = 0.05;
const LOG_EVENT_OVERHEAD_BYTES = 26;

const { values: args } = parseArgs({
  options: {
    events: { type: 'string' },
    persons: { type: 'string' },
    enterprises: { type: 'string' },
    seed: { type: 'string', default: 'cost' },
    'no-grant': { type: 'string', default: '500' },
    now: { type: 'string', default: '2026-10-01T10:00:00+08:00' },
    order: { type: 'string', default: 'time' },
    concurrency: { type: 'string', default: '1' },
    prices: { type: 'string', default: join(ROOT, 'scripts', 'prices.json') },
  },
  strict: true,
});

const whole = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
  return n;
};
const requestedEvents = whole('events', args.events, 10);
const noGrantEvents = whole('no-grant', args['no-grant'], 10)!;
const concurrency = whole('concurrency', args.concurrency, 1)!;
if (args.order !== 'time' && args.order !== 'generated') throw new Error('--order must be time or generated');
if (Number.isNaN(Date.parse(args.now!))) throw new Error(`--now '${args.now}' is not a date-time`);

// Lambda logs at INFO (applicationLogLevelV2 in infra/function.ts); locally the logger defaults to
// WARN. Set before the handlers are imported: the logger reads it once.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
const dataDir = mkdtempSync(join(tmpdir(), 'pb-cost-'));
process.env.PB_DATA_DIR = dataDir;
process.env.PB_NOTIFY_FILE = join(dataDir, 'notifications.jsonl');
process.env.PB_PSEUDONYM_KEY = 'c0'.repeat(32);
process.env.PB_RULES_DIR = join(ROOT, 'rules');

const prices: PriceList = validatePriceList(JSON.parse(readFileSync(args.prices!, 'utf8')));

/**
 * Memory of each function as infra/ declares it: the shared default of `PbFunction`, unless the
 * stack passes `memorySize` (then this script must learn which function; it says so and stops).
 */
function lambdaMemoryMb(): number {
  const fnSource = readFileSync(join(ROOT, 'infra', 'function.ts'), 'utf8');
  const m = /memorySize:\s*props\.memorySize\s*\?\?\s*(\d+)/.exec(fnSource);
  if (!m) throw new Error('infra/function.ts: cannot find the default memorySize');
  const stackSource = readFileSync(join(ROOT, 'infra', 'stack.ts'), 'utf8');
  if (/memorySize\s*:/.test(stackSource)) {
    throw new Error('infra/stack.ts sets memorySize for some function: teach scripts/cost.ts which');
  }
  return Number(m[1]);
}
const memoryMb = lambdaMemoryMb();

// ---------------------------------------------------------------------------------------------
// The stream.

const { generateEvents } = await import('../src/domain/events/generate.ts');

function population(): { persons: number; enterprises: number } {
  if (args.persons !== undefined || args.enterprises !== undefined) {
    return {
      persons: whole('persons', args.persons, 0) ?? 0,
      enterprises: whole('enterprises', args.enterprises, 0) ?? 0,
    };
  }
  if (requestedEvents === undefined) return { persons: 2000, enterprises: 500 };
  // Generation is cheap: count the events of a 4:1 population and scale it to the request.
  const count = (k: number) => {
    let c = 0;
    for (const _ of generateEvents({ persons: 4 * k, enterprises: k, seed: args.seed! })) c++;
    return c;
  };
  const probe = Math.max(10, Math.ceil(requestedEvents / 10));
  const k = Math.max(1, Math.round((probe * requestedEvents) / count(probe)));
  return { persons: 4 * k, enterprises: k };
}

const pop = population();
let bodies = [...generateEvents({ ...pop, seed: args.seed! })];
if (args.order === 'time') {
  // Agencies publish as things happen: order by occurredAt (stable, so ties keep generation order).
  const at = (b: string) => Date.parse((JSON.parse(b) as { occurredAt: string }).occurredAt);
  bodies = bodies
    .map((b, i) => ({ b, i, t: at(b) }))
    .sort((x, y) => x.t - y.t || x.i - y.i)
    .map((x) => x.b);
}
if (requestedEvents !== undefined && bodies.length > requestedEvents)
  bodies = bodies.slice(0, requestedEvents);

/** Every k-th event, so the grant-nothing streams touch subjects across the whole population. */
const sample = (all: string[], n: number): string[] => {
  const step = Math.max(1, Math.floor(all.length / n));
  const out: string[] = [];
  for (let i = 0; i < all.length && out.length < n; i += step) out.push(all[i]!);
  return out;
};
const noGrantSample = sample(bodies, Math.min(noGrantEvents, bodies.length));
// The same facts under a new id that sorts below the original: equal `occurredAt`, so the stored
// record wins the merge and nothing in the profile changes (an agency re-publishing a record).
const sameFacts = noGrantSample.map((b) => {
  const e = JSON.parse(b) as { id: string };
  return JSON.stringify({ ...e, id: `0${e.id}` });
});

// ---------------------------------------------------------------------------------------------
// The engine on the local stack, metered.

const { openLocalEngine } = await import('../src/local/session.ts');
const { drainQueues, sendLines } = await import('../src/local/pipeline.ts');
const { dynamoClient, sqsClient } = await import('../src/adapters/aws.ts');
const { observeNotifications } = await import('../src/runtime/notify.ts');

const started = Date.now();
const engine = await openLocalEngine({ reuseRunning: false, now: args.now!, prefix: 'pb-cost' });
const meter = new CostMeter();
const region = process.env.AWS_REGION ?? 'cn-north-1';
// Three SQS roles, each with its own client: the agencies' sends, the engine's own sends, and the
// receives/deletes that Lambda's event-source mappings make (played here by the local poller).
const producer = new SQSClient({ region, maxAttempts: 4, useQueueUrlAsEndpoint: false });
const mappings = new SQSClient({ region, maxAttempts: 4, useQueueUrlAsEndpoint: false });
// Bookkeeping (counting decisions) uses a client of its own, outside the meter.
const bookkeeping = new DynamoDBClient({ region, maxAttempts: 4 });
meter.instrumentDynamo(dynamoClient());
meter.instrumentSqs(sqsClient(), 'engine');
meter.instrumentSqs(producer, 'agencies');
meter.instrumentSqs(mappings, 'event-source mappings');
observeNotifications((n: OutgoingNotification) => {
  // What SnsChannel publishes: the JSON message, the subject and two string attributes.
  const bytes =
    Buffer.byteLength(JSON.stringify(n)) +
    Buffer.byteLength(n.title.slice(0, 100)) +
    Buffer.byteLength(`deliveryIdString${n.deliveryId}recipientString${n.recipient}`);
  meter.recordPublish(bytes);
});
const consumers = {
  agencyEvents: meter.wrapHandler('ingest', engine.consumers.agencyEvents!),
  evaluations: meter.wrapHandler('evaluate', engine.consumers.evaluations!),
  notifications: meter.wrapHandler('notify', engine.consumers.notifications!),
};

async function countItems(table: string): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const r = await bookkeeping.send(
      new ScanCommand({
        TableName: `pb-cost-${table}`,
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start as never } : {}),
      }),
    );
    n += r.Count ?? 0;
    start = r.LastEvaluatedKey;
  } while (start);
  return n;
}

interface Phase {
  name: string;
  events: number;
  usage: Usage;
  report: CostReport;
  grants: number;
  notifications: number;
  seconds: number;
}

async function runPhase(name: string, stream: string[]): Promise<Phase> {
  process.stderr.write(`cost: ${name}: ${stream.length} events...\n`);
  const t0 = Date.now();
  const decisionsBefore = await countItems('decisions');
  meter.take();
  meter.captureLogs();
  try {
    await sendLines(
      producer,
      engine.queues.agencyEvents.url,
      stream.map((body, i) => ({ line: i + 1, body })),
    );
    await drainQueues(engine.queues, consumers, { concurrency, sqs: mappings });
  } finally {
    meter.releaseLogs();
  }
  const usage = meter.take();
  const report = priceUsage(usage, prices, {
    events: stream.length,
    memoryMb: () => memoryMb,
    xraySampleRate: XRAY_SAMPLE_RATE,
    logOverheadBytes: LOG_EVENT_OVERHEAD_BYTES,
  });
  return {
    name,
    events: stream.length,
    usage,
    report,
    grants: (await countItems('decisions')) - decisionsBefore,
    notifications: usage.sns.publishes,
    seconds: (Date.now() - t0) / 1000,
  };
}

let phases: Phase[];
try {
  phases = [
    await runPhase('generated stream', bodies),
    await runPhase('grant-nothing: same facts, new ids', sameFacts),
    await runPhase('grant-nothing: redelivered events', noGrantSample),
  ];
} finally {
  producer.destroy();
  mappings.destroy();
  bookkeeping.destroy();
  await engine.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The report.

const out: string[] = [];
const say = (s = '') => out.push(s);
const fmt = (n: number, d = 3) =>
  n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const int = (n: number) => n.toLocaleString('en-US');
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const FUNCTIONS = ['ingest', 'evaluate', 'notify'];

function dynamoTable(p: Phase): void {
  const rows = new Map<string, Record<string, number>>();
  for (const [key, s] of Object.entries(p.usage.dynamo)) {
    const [fn, op, tables] = key.split('\t');
    const label = `${op} [${tables}]`;
    const row = rows.get(label) ?? {};
    row[fn!] = (row[fn!] ?? 0) + s.requests / p.events;
    rows.set(label, row);
  }
  say(
    `  ${pad('DynamoDB requests per event', 56)}${FUNCTIONS.map((f) => lpad(f, 10)).join('')}${lpad('total', 10)}`,
  );
  const totals: Record<string, number> = {};
  for (const [label, row] of [...rows].sort()) {
    const cells = FUNCTIONS.map((f) => {
      totals[f] = (totals[f] ?? 0) + (row[f] ?? 0);
      return lpad(row[f] ? fmt(row[f]!) : '-', 10);
    });
    const t = Object.values(row).reduce((a, b) => a + b, 0);
    say(`  ${pad(label, 56)}${cells.join('')}${lpad(fmt(t), 10)}`);
  }
  say(
    `  ${pad('all DynamoDB requests', 56)}${FUNCTIONS.map((f) => lpad(fmt(totals[f] ?? 0), 10)).join('')}${lpad(fmt(p.report.dynamoRequestsPerEventTotal), 10)}`,
  );
}

function capacityLines(p: Phase): void {
  const d = Object.values(p.usage.dynamo);
  const sum = (f: (s: (typeof d)[number]) => number) => d.reduce((a, s) => a + f(s), 0);
  const calls = sum((s) => s.requests);
  const withCap = sum((s) => s.withCapacity);
  const failed = sum((s) => s.failed);
  say(
    `  Consumed capacity per event: ${fmt(sum((s) => s.priced.wru) / p.events, 2)} WRU, ${fmt(sum((s) => s.priced.rru) / p.events, 2)} RRU priced.`,
  );
  say(
    `    measured (ReturnConsumedCapacity from DynamoDB Local) on ${int(withCap)} of ${int(calls)} calls: ${fmt(sum((s) => s.measured.wru) / p.events, 2)} WRU, ${fmt(sum((s) => s.measured.rru) / p.events, 2)} RRU per event;`,
  );
  say(
    `    computed from item sizes for the other ${int(calls - withCap)} (${int(failed)} failed calls return no capacity): ${fmt(sum((s) => (s.withCapacity < s.requests ? s.priced.wru - s.measured.wru : 0)) / p.events, 2)} WRU, ${fmt(sum((s) => (s.withCapacity < s.requests ? s.priced.rru - s.measured.rru : 0)) / p.events, 2)} RRU per event;`,
  );
  say(
    `    cross-check, computed for every call: ${fmt(sum((s) => s.computed.wru) / p.events, 2)} WRU, ${fmt(sum((s) => s.computed.rru) / p.events, 2)} RRU per event.`,
  );
}

/** Where the write units go: per call kind, the tables and indexes written and the item sizes. */
function writeBreakdown(p: Phase): void {
  const calls = Object.entries(p.usage.dynamo)
    .filter(([, s]) => s.priced.wru > 0)
    .sort((a, b) => b[1].priced.wru - a[1].priced.wru);
  say(
    '  Write units per event by call (table and index split measured with ReturnConsumedCapacity=INDEXES):',
  );
  for (const [key, s] of calls) {
    const [fn, op, tables] = key.split('\t');
    say(
      `    ${fn} ${op} [${tables}]: ${fmt(s.priced.wru / p.events, 2)} WRU/event = ${fmt(s.requests / p.events)} calls/event x ${fmt(s.priced.wru / s.requests, 1)} WRU/call`,
    );
    const parts = Object.entries(s.byIndex).sort((a, b) => b[1] - a[1]);
    if (parts.length > 1) say(`      ${parts.map(([t, u]) => `${t} ${fmt(u / p.events, 2)}`).join(', ')}`);
    const items = Object.entries(s.itemsPut);
    if (items.length > 0)
      say(
        `      items put (mean size): ${items.map(([t, v]) => `${t} ${int(Math.round(v.bytes / v.items))} B`).join(', ')}`,
      );
  }
  // DynamoDB Local bills index writes made by a transaction at the transactional rate (2 per KB).
  // If AWS bills them once, the figure above overstates the units by half of those index writes.
  let txIndex = 0;
  for (const [key, s] of Object.entries(p.usage.dynamo)) {
    if (key.split('\t')[1] !== 'TransactWriteItems') continue;
    for (const [t, u] of Object.entries(s.byIndex)) if (t.includes('/')) txIndex += u;
  }
  if (txIndex > 0) {
    const wru = prices.prices.dynamodbWriteRequestUnit;
    say(
      `    of which index writes inside transactions: ${fmt(txIndex / p.events, 2)} WRU/event; billed once instead of twice they would be ${fmt(txIndex / 2 / p.events, 2)} (-${fmt(((txIndex / 2 / p.events) * 1e6 * wru.usd) / wru.per, 4)} USD/M)`,
    );
  }
}

function sqsTable(p: Phase): void {
  say(
    `  ${pad('SQS requests per event (billed per 64 KB chunk)', 64)}${lpad('requests', 10)}${lpad('billed', 10)}`,
  );
  const notPriced: string[] = [];
  for (const [key, s] of Object.entries(p.usage.sqs).sort()) {
    const [role, fn, op] = key.split('\t');
    if (op === 'GetQueueAttributes' || op === 'GetQueueUrl') {
      notPriced.push(`${int(s.requests)} ${op}`);
      continue;
    }
    const who = fn === '-' ? role! : `${role} (${fn})`;
    const requests = op === 'ReceiveMessage' ? s.requests - s.empty : s.requests;
    const billed = op === 'ReceiveMessage' ? s.billed - s.empty : s.billed;
    if (op === 'ReceiveMessage' && s.empty > 0) notPriced.push(`${int(s.empty)} empty ReceiveMessage`);
    say(
      `  ${pad(`${who}: ${op}`, 64)}${lpad(fmt(requests / p.events), 10)}${lpad(fmt(billed / p.events), 10)}`,
    );
  }
  if (notPriced.length > 0)
    say(`    not priced (the local poller's idle and housekeeping calls): ${notPriced.join(', ')}`);
}

function lambdaTable(p: Phase): void {
  say(
    `  ${pad(`Lambda (Arm, ${memoryMb} MB)`, 24)}${lpad('inv/event', 11)}${lpad('records/inv', 13)}${lpad('mean ms', 10)}${lpad('max ms', 10)}${lpad('GB-s/event', 12)}${lpad('log B/event', 13)}`,
  );
  for (const fn of FUNCTIONS) {
    const s = p.usage.lambda[fn];
    if (!s) continue;
    const logs = p.usage.logs[fn];
    say(
      `  ${pad(fn, 24)}${lpad(fmt(s.invocations / p.events), 11)}${lpad(fmt(s.records / s.invocations, 1), 13)}${lpad(fmt(s.durationMs / s.invocations, 1), 10)}${lpad(fmt(s.maxMs, 0), 10)}${lpad(fmt(((s.billedMs / 1000) * (memoryMb / 1024)) / p.events, 5), 12)}${lpad(fmt(logs ? logs.bytes / p.events : 0, 0), 13)}`,
    );
  }
  say(
    `  SNS publishes per event: ${fmt(p.usage.sns.publishes / p.events)} (${int(p.usage.sns.publishes)} notifications; the local file channel stands in for SNS)`,
  );
}

function costTable(p: Phase): void {
  say(`  ${pad('Cost per million events', 44)}${lpad('per event', 18)}${lpad('USD / M', 10)}  basis`);
  for (const l of p.report.lines) {
    say(
      `  ${pad(`${l.service}: ${l.what}`, 44)}${lpad(`${fmt(l.perEvent, l.perEvent < 0.01 ? 6 : 3)} ${l.unit}`, 18)}${lpad(fmt(l.usdPerMillion, 4), 10)}  ${l.basis}`,
    );
  }
  say(`  ${pad('total', 44)}${lpad('', 18)}${lpad(fmt(p.report.usdPerMillion, 4), 10)}`);
}

const [main, ...noGrant] = phases;
say(
  `npm run cost: AWS list prices (${prices.region}, ${prices.currency}, as of ${prices.asOf}, ${args.prices === join(ROOT, 'scripts', 'prices.json') ? 'scripts/prices.json' : args.prices})`,
);
say(
  `Stream: ${int(main!.events)} generated events (seed '${args.seed}', ${int(pop.persons)} persons + ${int(pop.enterprises)} enterprises, ${args.order === 'time' ? 'in occurredAt order' : 'in generation order'}), engine clock ${args.now}`,
);
say(
  `Outcome: ${int(main!.grants)} grants, ${int(main!.notifications)} notifications, ${fmt(main!.seconds, 1)} s; pollers per queue: ${concurrency}`,
);
say();
say('== Generated stream ==');
dynamoTable(main!);
capacityLines(main!);
writeBreakdown(main!);
say();
sqsTable(main!);
say();
lambdaTable(main!);
say();
costTable(main!);
const costOk = main!.report.usdPerMillion <= TARGET_USD_PER_MILLION;
say(
  `  target: <= ${fmt(TARGET_USD_PER_MILLION, 2)} USD per million events: ${costOk ? 'met' : `MISSED by ${fmt(main!.report.usdPerMillion - TARGET_USD_PER_MILLION, 2)} USD`}`,
);

let noGrantOk = true;
for (const p of noGrant) {
  say();
  say(`== ${p.name} ==`);
  say(
    `  ${int(p.events)} events, ${int(p.grants)} grants, ${int(p.notifications)} notifications, ${fmt(p.seconds, 1)} s`,
  );
  dynamoTable(p);
  capacityLines(p);
  const ok = p.grants === 0 && p.report.dynamoRequestsPerEventTotal <= TARGET_NO_GRANT_REQUESTS;
  noGrantOk &&= ok;
  say(
    `  ${fmt(p.report.usdPerMillion, 4)} USD per million such events. Target: <= ${TARGET_NO_GRANT_REQUESTS} DynamoDB requests per event that grants nothing: ${ok ? 'met' : p.grants > 0 ? 'NOT MEASURED (the stream granted something)' : 'MISSED'}`,
  );
}

say();
say('Notes:');
for (const line of [
  "- The local poller receives up to 10 messages per ReceiveMessage and deletes a batch's successes with one",
  "  DeleteMessageBatch, as Lambda's event-source mapping does: ReceiveMessage is counted once per batch received.",
  '  The mappings also long-poll idle queues; that is a fixed monthly cost per queue, not per event: not priced.',
  "- The agencies' sends are counted: the owner of a queue pays for the requests made to it.",
  '- Measured here: request counts, capacity of the calls that succeed (DynamoDB Local), SQS and SNS payload',
  '  sizes, handler durations (this machine against DynamoDB Local; Lambda on Arm will differ), log bytes.',
  '- Computed: capacity of failed calls (DynamoDB returns none; a cancelled transaction is priced as if written),',
  `  X-Ray traces (${XRAY_SAMPLE_RATE * 100}% of invocations), ${LOG_EVENT_OVERHEAD_BYTES} B per log line. Not counted: INIT time of cold starts, KMS.`,
])
  say(line);
say(
  `SUMMARY: ${fmt(main!.report.usdPerMillion, 4)} USD per million events (target <= ${fmt(TARGET_USD_PER_MILLION, 2)}: ${costOk ? 'met' : 'MISSED'}); DynamoDB requests per grant-nothing event: ${noGrant.map((p) => fmt(p.report.dynamoRequestsPerEventTotal, 2)).join(' / ')} (target <= ${TARGET_NO_GRANT_REQUESTS}: ${noGrantOk ? 'met' : 'MISSED'}); total run ${fmt((Date.now() - started) / 1000, 1)} s`,
);
process.stdout.write(`${out.join('\n')}\n`);
process.exitCode = costOk && noGrantOk ? 0 : 1;
