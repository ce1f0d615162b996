/**
 * Load test: `npx tsx scripts/load.ts [--events 100000] [--concurrency 8] [--seed load] [--json]`.
 *
 * Generates a stream with `pb events generate`'s generator, delivers every event 1–3 times in
 * random order through a fresh local stack (DynamoDB Local in memory + fauxqs), runs the real
 * handlers with the local event-source poller, and reports events/s, handler latency per record,
 * DynamoDB requests and consumed capacity per event, and whether the result is right: grants equal
 * an independent computation on the final facts, the facts equal an independent fold, no event
 * lost, nothing left in any queue, outbox or DLQ. With --json the last line is the report as JSON.
 * `npm run proof` runs it and checks the goals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dynamoClient } from '../src/adapters/aws.ts';
import type { Consumers } from '../src/local/pipeline.ts';
import { openLocalEngine } from '../src/local/session.ts';
import type { QueueId } from '../src/resources.ts';
import { runtimeConfig } from '../src/runtime/engine.ts';
import { drainWithRedelivery } from '../src/testing/drain.ts';
import { executionEnvironments } from '../src/testing/environments.ts';
import {
  cleanClients,
  diffList,
  engineState,
  expectedProfiles,
  outcomeList,
} from '../src/testing/harness.ts';
import { DynamoMeter, deliveries, LatencyMeter, loadStream, sendAll } from '../src/testing/load.ts';
import { expectedOutcomes } from '../test/integration/expected.ts';

/** The load report (also what `npm run proof` reads). */
export interface LoadReport {
  events: number;
  deliveries: number;
  concurrency: number;
  queueSeconds: number;
  drainSeconds: number;
  eventsPerSecond: number;
  deliveriesPerSecond: number;
  /** Handler latency per record (ms), per consumer. */
  latency: Record<string, { p50: number; p99: number; records: number; invocations: number }>;
  dynamo: {
    requestsPerEvent: number;
    attemptsPerEvent: number;
    readUnitsPerEvent: number;
    writeUnitsPerEvent: number;
    byOperation: Record<string, { requests: number; units: number }>;
    errors: Record<string, number>;
  };
  grants: number;
  expectedGrants: number;
  /** Outcomes that differ from the independent computation (missing or extra). */
  grantMismatches: number;
  /** Subjects whose stored facts differ from the independent fold. */
  factMismatches: number;
  /** Accepted events without a receipt. */
  lost: number;
  notifications: number;
  /** Problems the state shows on its own (ledger, notifications, outbox, queues, DLQs). */
  problems: string[];
  examples: string[];
}

const NOW = '2026-03-15T10:00:00+08:00';
const KEY_HEX = '7'.repeat(64);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '100000' },
      concurrency: { type: 'string', default: '8' },
      seed: { type: 'string', default: 'load' },
      json: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.events);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(count) || count < 1) throw new Error('--events must be a positive whole number');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error('--concurrency must be a whole number from 1 to 64');
  const say = (s: string) => process.stderr.write(`${s}\n`);

  const dataDir = mkdtempSync(join(tmpdir(), 'pb-load-'));
  process.env.PB_DATA_DIR = dataDir;
  process.env.PB_NOTIFY_FILE = join(dataDir, 'notifications.jsonl');
  process.env.PB_PSEUDONYM_KEY = KEY_HEX;
  const engine = await openLocalEngine({ prefix: 'pb-load', now: NOW, reuseRunning: false });
  const clients = cleanClients();
  try {
    const meter = new DynamoMeter();
    meter.attach(dynamoClient());
    meter.enabled = false;

    say(`generating ${count} events …`);
    const bodies = loadStream(count, values.seed);
    const messages = deliveries(bodies, 42);
    say(`queueing ${messages.length} deliveries …`);
    const q0 = performance.now();
    await sendAll(clients.sqs, engine.queues.agencyEvents.url, messages);
    const queueSeconds = (performance.now() - q0) / 1000;

    // One Lambda execution environment per poller: its own instance of each handler module.
    const meters: Partial<Record<QueueId, LatencyMeter>> = {};
    const environments: Consumers[] = [];
    for (const env of await executionEnvironments(concurrency)) {
      const timed: Consumers = {};
      for (const [id, h] of Object.entries(env) as Array<[QueueId, Consumers[QueueId]]>) {
        if (!h) continue;
        meters[id] ??= new LatencyMeter();
        timed[id] = meters[id].wrap(h);
      }
      environments.push(timed);
    }
    say(`draining with ${concurrency} pollers per queue, one execution environment each …`);
    meter.enabled = true;
    const d0 = performance.now();
    let lastSay = 0;
    const totals = await drainWithRedelivery(engine.queues, environments, {
      concurrency,
      sqs: clients.sqs,
      timeoutMs: 3_600_000,
      onProgress: (t) => {
        if (performance.now() - lastSay < 5000) return;
        lastSay = performance.now();
        const s = (performance.now() - d0) / 1000;
        const parts = Object.entries(t.perQueue)
          .filter(([, r]) => r && r.received > 0)
          .map(([id, r]) => `${id} ${r!.succeeded}`);
        say(`  ${s.toFixed(0)} s: ${parts.join(', ')}`);
      },
    });
    const drainSeconds = (performance.now() - d0) / 1000;
    say(`drained: ${JSON.stringify(totals.perQueue)}`);
    meter.enabled = false;

    say('checking the result …');
    const cfg = runtimeConfig();
    const state = await engineState(
      { queues: engine.queues, consumers: engine.consumers, notifyFile: process.env.PB_NOTIFY_FILE },
      clients,
      cfg,
    );
    const expected = outcomeList(await expectedOutcomes(bodies, NOW, KEY_HEX));
    const grantDiff = diffList('outcome', expected, state.outcomes);
    const folded = expectedProfiles(bodies, Buffer.from(KEY_HEX, 'hex'));
    const factDiff = diffList('profile', folded.profiles, state.profiles);
    const lost = diffList('receipt', folded.receipts, state.receipts).filter((d) => d.includes('missing'));
    const u = meter.usage;
    const report: LoadReport = {
      events: bodies.length,
      deliveries: messages.length,
      concurrency,
      queueSeconds: round(queueSeconds),
      drainSeconds: round(drainSeconds),
      eventsPerSecond: round(bodies.length / drainSeconds),
      deliveriesPerSecond: round(messages.length / drainSeconds),
      latency: Object.fromEntries(
        Object.entries(meters).map(([id, m]) => {
          const s = m!.summary();
          return [
            id,
            { p50: round(s.p50), p99: round(s.p99), records: s.records, invocations: s.invocations },
          ];
        }),
      ),
      dynamo: {
        requestsPerEvent: round(u.requests / bodies.length),
        attemptsPerEvent: round(u.attempts / bodies.length),
        readUnitsPerEvent: round(u.readUnits / bodies.length),
        writeUnitsPerEvent: round(u.writeUnits / bodies.length),
        byOperation: u.byOperation,
        errors: u.errors,
      },
      grants: state.outcomes.length,
      expectedGrants: expected.length,
      grantMismatches: grantDiff.length,
      factMismatches: factDiff.length / 2,
      lost: lost.length + state.quarantined.length,
      notifications: state.notifications.length,
      problems: state.problems,
      examples: [...grantDiff, ...factDiff, ...lost, ...state.quarantined].slice(0, 10),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const ok =
      report.grantMismatches === 0 &&
      report.factMismatches === 0 &&
      report.lost === 0 &&
      report.problems.length === 0;
    return ok ? 0 : 1;
  } finally {
    clients.destroy();
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`load: ${e.message}\n`);
    process.exit(1);
  },
);
