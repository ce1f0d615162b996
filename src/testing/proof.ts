/**
 * The parts of `npm run proof`: each runs in its own process (module state of the handlers, the
 * engine's clients and clock belong to one part) on its own local stack, and returns rows of the
 * proof table: a figure, what was measured, its goal and whether it was met.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list, redrive } from '../cli/commands/quarantine.ts';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { replay } from '../cli/commands/replay.ts';
import type { Io } from '../cli/io.ts';
import { fixedClock } from '../clock.ts';
import { generateEvents } from '../domain/events/generate.ts';
import { pseudonymise } from '../domain/pseudonym.ts';
import { sendLines } from '../local/pipeline.ts';
import { type LocalEngine, openLocalEngine } from '../local/session.ts';
import { QUEUES } from '../resources.ts';
import { resetClients } from '../adapters/aws.ts';
import { runtimeConfig, setClock } from '../runtime/engine.ts';
import { resetNotifyRuntime } from '../runtime/notify.ts';
import { expectedOutcomes } from '../../test/integration/expected.ts';
import { poisoned } from './consumers.ts';
import { drainWithRedelivery } from './drain.ts';
import type { CallInfo, Fault } from './faults.ts';
import { asLines, cleanClients, compareStates, outcomeList } from './harness.ts';
import { queueDepth } from '../local/pipeline.ts';
import { distinctFindings, runRulesFuzz, rulesUnderTest } from './rules-fuzz.ts';
import { hostileEvents, IdentityScan } from './scan.ts';
import {
  BATCH_TIMING,
  batchEnvironments,
  drainWithFaults,
  installInjector,
  QUICK_TIMING,
  runWithFaults,
  SWEEP_MODES,
  type SweepContext,
  type SweepOutcome,
  sweep,
  sweepFault,
  wrapConsumer,
} from './sweep.ts';

/** One row of the proof table. `pass` null: a figure reported without a goal. */
export interface ProofRow {
  area: string;
  figure: string;
  measured: string;
  goal: string;
  pass: boolean | null;
}

export const NOW = '2026-03-15T10:00:00+08:00';

/** A persistent fault on one subject: its few messages may come back after a second. */
const PERSISTENT_TIMING = {
  ...BATCH_TIMING,
  redeliverySeconds: { agencyEvents: 1, evaluations: 1, notifications: 10 },
};
export const KEY_HEX = '7'.repeat(64);

const demo = () =>
  readFileSync('events/samples/demo.jsonl', 'utf8')
    .split('\n')
    .filter((l) => l.trim());

/** A fresh local stack for one part, with the engine pointed at it. */
async function openPart(
  name: string,
): Promise<{ engine: LocalEngine; ctx: SweepContext; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), `pb-proof-${name}-`));
  process.env.PB_DATA_DIR = dataDir;
  process.env.PB_NOTIFY_FILE = join(dataDir, 'notifications.jsonl');
  process.env.PB_PSEUDONYM_KEY = KEY_HEX;
  const engine = await openLocalEngine({ prefix: `proof-${name}`, now: NOW, reuseRunning: false });
  const clients = cleanClients();
  const ctx: SweepContext = {
    slice: { queues: engine.queues, consumers: engine.consumers, notifyFile: process.env.PB_NOTIFY_FILE },
    clients,
    cfg: runtimeConfig(),
    injector: installInjector(),
    bodies: demo(),
  };
  return {
    engine,
    ctx,
    close: async () => {
      clients.destroy();
      await engine.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const row = (
  area: string,
  figure: string,
  measured: string | number,
  goal: string,
  pass: boolean | null,
) => ({
  area,
  figure,
  measured: String(measured),
  goal,
  pass,
});

function captureIo() {
  const out: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => out.push(l), progress: () => undefined };
  return { io, out };
}

/** Every k of the fault-free run, every mode: converges on the fault-free state. */
export async function faultsPart(log: (s: string) => void): Promise<ProofRow[]> {
  const { ctx, close } = await openPart('faults');
  try {
    const started = Date.now();
    const outcomes: SweepOutcome[] = [];
    const { baseline } = await sweep(ctx, {
      onResult: (o) => {
        outcomes.push(o);
        if (outcomes.length % 40 === 0) log(`faults: ${outcomes.length} runs`);
        if (o.differences.length > 0)
          log(`faults: ${o.mode} k=${o.k} (${o.target}): ${o.differences.join('; ')}`);
      },
    });
    const calls = baseline.stats.calls;
    const expected = outcomeList(await expectedOutcomes(ctx.bodies as string[], NOW, KEY_HEX));
    const converged = outcomes.filter((o) => o.differences.length === 0).length;
    const count = (pattern: RegExp) =>
      outcomes.reduce((n, o) => n + o.differences.filter((d) => pattern.test(d)).length, 0);
    const kinds = new Set(baseline.trace.map((c) => `${c.phase}:${c.operation}`)).size;
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const right = baseline.state.outcomes.join('\n') === expected.join('\n');
    return [
      row(
        'Faults',
        'fault-free run: grants equal the independent computation',
        right ? 'yes' : 'no',
        'yes',
        right,
      ),
      row(
        'Faults',
        `runs converged (k = 1..${calls} over ${kinds} kinds of call × ${SWEEP_MODES.join('/')})`,
        `${converged}/${outcomes.length}`,
        'all',
        converged === outcomes.length && outcomes.length === calls * SWEEP_MODES.length,
      ),
      row(
        'Faults',
        'faults that fired where aimed',
        `${outcomes.filter((o) => o.fired === 1).length}/${outcomes.length}`,
        'all',
        outcomes.every((o) => o.fired === 1),
      ),
      row(
        'Faults',
        'grants extra or missing vs fault-free (all runs)',
        count(/^outcome: /),
        '0',
        count(/^outcome: /) === 0,
      ),
      row(
        'Faults',
        'notifications doubled or missing (all runs)',
        count(/^notification/),
        '0',
        count(/^notification/) === 0,
      ),
      row(
        'Faults',
        'accepted events lost (missing receipts, all runs)',
        count(/^receipt: missing/),
        '0',
        count(/^receipt: missing/) === 0,
      ),
      row('Faults', 'ledger problems (all runs)', count(/^ledger/), '0', count(/^ledger/) === 0),
      row(
        'Faults',
        'messages left in queues or DLQs, outbox rows left',
        count(/^(queue|outbox)/),
        '0',
        count(/^(queue|outbox)/) === 0,
      ),
      row(
        'Faults',
        'runs with the very same decision tuples as fault-free',
        `${outcomes.filter((o) => o.exact).length}/${outcomes.length}`,
        'report (order may change flags)',
        null,
      ),
      row('Faults', 'sweep time', `${minutes} min`, 'report', null),
    ];
  } finally {
    await close();
  }
}

/** Throttling: transient (retried/redelivered, no DLQ) and persistent (DLQ, then redrive converges). */
export async function throttlePart(log: (s: string) => void): Promise<ProofRow[]> {
  const { ctx, close } = await openPart('throttle');
  try {
    const baseline = (await runWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 }))
      .state;
    const faults: Fault[] = [
      { layer: 'attempt', point: 'before', error: 'throttle', rate: 0.25, attempts: 2 },
      {
        layer: 'attempt',
        point: 'before',
        error: 'capacity',
        rate: 0.05,
        attempts: Number.POSITIVE_INFINITY,
        when: (c) => c.service === 'dynamodb',
      },
    ];
    /** Throttling episodes; `fresh`: each starts on new clients (a full SDK retry quota). */
    const episodes = async (seeds: number[], fresh: boolean) => {
      const t = { fired: 0, retries: 0, redelivered: 0, dlq: 0, converged: 0, runs: seeds.length };
      const dlqs = new Map<string, number>();
      for (const seed of seeds) {
        if (fresh) {
          resetClients();
          installInjector(ctx.injector);
        }
        const run = await runWithFaults(ctx, faults, {
          consumers: await batchEnvironments(2),
          concurrency: 2,
          seed,
        });
        t.fired += run.stats.fired;
        t.retries += run.stats.retries;
        t.redelivered += Object.values(run.totals.perQueue).reduce((n, x) => n + (x?.failed ?? 0), 0);
        for (const [q, v] of Object.entries(run.state.queues)) {
          if (!q.endsWith('-dlq') || !v) continue;
          t.dlq += v;
          dlqs.set(q, (dlqs.get(q) ?? 0) + v);
        }
        const diffs = compareStates(baseline, run.state);
        if (diffs.length === 0) t.converged++;
        log(
          `throttle: ${fresh ? 'episode' : 'sustained'} seed ${seed} done${diffs.length ? `; differs: ${diffs.slice(0, 3).join('; ')}` : ''}`,
        );
      }
      /** Where the dead-lettered messages are, e.g. `1 (evaluations-dlq 1)`. */
      const where = `${t.dlq}${t.dlq ? ` (${[...dlqs].map(([q, n]) => `${q} ${n}`).join(', ')})` : ''}`;
      return { ...t, where };
    };
    const a = await episodes([1, 2, 3, 4], true);
    resetClients();
    installInjector(ctx.injector);
    const b = await episodes([5, 6, 7], false);
    // Persistent: a hot partition (every request about one person fails on every attempt).
    const raw = '110102197809030577';
    const subject = pseudonymise(Buffer.from(KEY_HEX, 'hex'), raw);
    const about = (c: CallInfo) => JSON.stringify(c.input).includes(subject);
    const hot = ctx.bodies.filter((b) => b.includes(raw)).length;
    const receives = new Map<string, number>();
    const counting = wrapConsumer(
      await batchEnvironments(2),
      'agencyEvents',
      (h) => async (event, context) => {
        for (const r of event.Records)
          if (r.body.includes(raw)) receives.set(r.messageId, (receives.get(r.messageId) ?? 0) + 1);
        return h(event, context);
      },
    );
    const stuck = await runWithFaults(
      ctx,
      [
        {
          layer: 'attempt',
          point: 'before',
          error: 'capacity',
          attempts: Number.POSITIVE_INFINITY,
          when: about,
        },
      ],
      // One subject's few messages: the SDK's retry quota lasts, so receives may come quickly.
      { consumers: counting, concurrency: 2, timing: PERSISTENT_TIMING },
    );
    const moved = captureIo();
    await redrive(['--queue', 'agency-events'], moved.io);
    setClock(fixedClock(NOW));
    installInjector(ctx.injector);
    const after = await drainWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 });
    const diffs = compareStates(baseline, after.state);
    return [
      row(
        'Throttling',
        `throttling episodes (${a.runs} runs of the demo stream, each on fresh clients: 25% of requests throttled 1–2×, 5% of DynamoDB requests on every attempt): faults injected`,
        a.fired,
        'report',
        null,
      ),
      row(
        'Throttling',
        'retried by the SDK with backoff (attempts beyond the first)',
        a.retries,
        '> 0',
        a.retries > 0,
      ),
      row('Throttling', 'redelivered by SQS after the SDK gave up', a.redelivered, '> 0', a.redelivered > 0),
      row(
        'Throttling',
        'episodes converged on the fault-free state',
        `${a.converged}/${a.runs}`,
        'all',
        a.converged === a.runs,
      ),
      row('Throttling', 'messages in a DLQ after an episode', a.where, '0', a.dlq === 0),
      row(
        'Throttling',
        `sustained throttling (${b.runs} episodes back to back on the same clients): messages dead-lettered, runs converged`,
        `${b.where}, ${b.converged}/${b.runs}`,
        'report (the fault persists: the SDK retry quota runs dry)',
        null,
      ),
      row(
        'Throttling',
        `persistent fault on one subject: its events in the DLQ (receives each)`,
        `${stuck.state.queues['agencyEvents-dlq']} (${[...new Set(receives.values())].join(',')})`,
        `${hot} (${QUEUES.agencyEvents.maxReceiveCount})`,
        stuck.state.queues['agencyEvents-dlq'] === hot &&
          [...receives.values()].every((n) => n === QUEUES.agencyEvents.maxReceiveCount),
      ),
      row(
        'Throttling',
        'fault removed, pb quarantine redrive: converged on the fault-free state',
        diffs.length === 0 ? 'yes' : diffs.slice(0, 2).join('; '),
        'yes',
        diffs.length === 0,
      ),
    ];
  } finally {
    await close();
  }
}

/** A poison message: DLQ after maxReceiveCount, listed without raw ids, redriven once fixed. */
export async function poisonPart(): Promise<ProofRow[]> {
  const { ctx, close } = await openPart('poison');
  try {
    const baseline = (await runWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 }))
      .state;
    const body = ctx.bodies.find((b) => b.includes('"ca-2025-000311"'))!;
    const seen = new Map<string, number>();
    const consumers = wrapConsumer(await batchEnvironments(2), 'agencyEvents', (h) =>
      poisoned(h, (b) => b === body, seen),
    );
    const run = await runWithFaults(ctx, [], { consumers, concurrency: 2, timing: QUICK_TIMING });
    const shown = captureIo();
    await list(['--json'], shown.io);
    const listed = shown.out.some(
      (l) => l.startsWith('{"key":"dlq:agency-events:') && l.includes('ca-2025-000311'),
    );
    const scan = new IdentityScan();
    scan.lines('pb quarantine list', shown.out);
    await redrive([], captureIo().io);
    setClock(fixedClock(NOW));
    installInjector(ctx.injector);
    const after = await drainWithFaults(ctx, [], { consumers: await batchEnvironments(2), concurrency: 2 });
    const diffs = compareStates(baseline, after.state);
    return [
      row(
        'Poison',
        'receives before the DLQ',
        [...seen.values()].join(','),
        String(QUEUES.agencyEvents.maxReceiveCount),
        [...seen.values()].join() === String(QUEUES.agencyEvents.maxReceiveCount),
      ),
      row(
        'Poison',
        'in the DLQ, listed by pb quarantine list',
        `${run.state.queues['agencyEvents-dlq']}, ${listed ? 'listed' : 'not listed'}`,
        '1, listed',
        run.state.queues['agencyEvents-dlq'] === 1 && listed,
      ),
      row('Poison', 'raw identity numbers in the listing', scan.leaks.length, '0', scan.leaks.length === 0),
      row(
        'Poison',
        'fixed, redriven: processed, state equals the fault-free run',
        diffs.length === 0 ? 'yes' : diffs.slice(0, 2).join('; '),
        'yes',
        diffs.length === 0,
      ),
    ];
  } finally {
    await close();
  }
}

/**
 * The security run: demo, generated and hostile events through the real handlers (one poison
 * message to the DLQ), pb replay and pb quarantine list; scans every table, the notifications and
 * the commands' output here. The parent process scans this process's whole stdout and stderr
 * (every log line, at DEBUG) itself.
 */
export async function securityPart(persons: number, enterprises: number): Promise<ProofRow[]> {
  const { engine, ctx, close } = await openPart('security');
  try {
    const hostile = hostileEvents();
    const generated = [...generateEvents({ persons, enterprises, seed: 'proof-security' })];
    const stream = [...ctx.bodies, ...generated, ...hostile.accepted, ...hostile.rejected];
    const poison = generated.find((b) => b.includes('birth-registered'))!;
    await sendLines(ctx.clients.sqs, engine.queues.agencyEvents.url, asLines(stream));
    const envs = wrapConsumer(await batchEnvironments(2), 'agencyEvents', (h) =>
      poisoned(h, (b) => b === poison),
    );
    await drainWithRedelivery(engine.queues, envs, {
      concurrency: 2,
      sqs: ctx.clients.sqs,
      retryDelaySeconds: QUICK_TIMING.redeliverySeconds,
      timeoutMs: 1_800_000,
    });
    const inDlq = await queueDepth(ctx.clients.sqs, engine.queues.agencyEvents.dlqUrl);
    // The operator's commands: pb quarantine list on this stack; then pb replay of the same stream,
    // which starts a stack of its own (on this one it would decide nothing new and print nothing).
    const listed = captureIo();
    await list(['--all', '--json'], listed.io);
    await list(['--all'], listed.io);
    const scan = new IdentityScan();
    await scan.tables(ctx.clients.doc, ctx.cfg);
    scan.file('notifications', process.env.PB_NOTIFY_FILE!);
    scan.lines('pb quarantine list', listed.out);
    const dir = mkdtempSync(join(tmpdir(), 'pb-proof-security-'));
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, `${stream.join('\n')}\n`);
    for (const k of Object.keys(process.env)) {
      if (/^(PB_QUEUE_URL_|PB_DLQ_URL_|AWS_ENDPOINT_URL|PB_PREFIX$)/.test(k)) delete process.env[k];
    }
    const replayed = captureIo();
    await replay(
      [
        '--events',
        file,
        '--now',
        NOW,
        '--out',
        join(dir, 'decisions.jsonl'),
        '--rejected',
        join(dir, 'rejected.jsonl'),
      ],
      replayed.io,
    );
    scan.lines('pb replay output', replayed.out);
    scan.file('pb replay output', join(dir, 'decisions.jsonl'));
    scan.file('pb replay output', join(dir, 'rejected.jsonl'));
    rmSync(dir, { recursive: true, force: true });
    const where = (source: RegExp) => scan.leaks.filter((l) => source.test(l.where));
    const leakRow = (figure: string, source: RegExp, scanned: number) => {
      const leaks = where(source);
      return row(
        'Security',
        `raw identity numbers in ${figure} (${scanned} scanned)`,
        leaks.length === 0
          ? '0'
          : `${leaks.length}: ${[...new Set(leaks.map((l) => l.where))].slice(0, 3).join('; ')}`,
        '0',
        leaks.length === 0,
      );
    };
    return [
      row(
        'Security',
        'raw identity numbers in the input (scanner finds them)',
        scanInput(stream),
        '> 0',
        scanInput(stream) > 0,
      ),
      leakRow('table items', /^table /, scan.scanned['table items'] ?? 0),
      leakRow('notifications', /^notifications/, scan.scanned.notifications ?? 0),
      leakRow('pb replay output', /^pb replay/, scan.scanned['pb replay output'] ?? 0),
      leakRow(
        'pb quarantine list (rejected + DLQ)',
        /^pb quarantine/,
        scan.scanned['pb quarantine list'] ?? 0,
      ),
      row('Security', 'poison message in the DLQ during the scan', inDlq, '1', inDlq === 1),
    ];
  } finally {
    await close();
  }
}

function scanInput(stream: readonly string[]): number {
  const s = new IdentityScan();
  s.lines('input', stream);
  return s.leaks.length;
}

/** Rule-file fuzzing with many cases. */
export async function rulesPart(cases: number): Promise<ProofRow[]> {
  const report = await runRulesFuzz(rulesUnderTest, { cases, damaged: Math.ceil(cases / 10), seed: 2026 });
  const by = (kind: string) => report.findings.filter((f) => f.kind === kind).length;
  const distinct = distinctFindings(report.findings);
  const example = (kinds: string[]) =>
    distinct.find((f) => kinds.includes(f.kind))?.detail.slice(0, 80) ?? '';
  const crashes = by('validator-threw') + by('loader-threw-unlike-validator') + by('evaluator-threw');
  const lines = by('multi-line-problem') + by('problem-format');
  return [
    row(
      'Rule fuzzing',
      'cases (random leaves, paths, operators, facts; damaged files)',
      `${report.cases} (${report.refused} refused, ${report.loaded} loaded)`,
      'report',
      null,
    ),
    row(
      'Rule fuzzing',
      'loader or evaluator crashes',
      crashes === 0
        ? '0'
        : `${crashes}: ${example(['validator-threw', 'loader-threw-unlike-validator', 'evaluator-threw'])}`,
      '0',
      crashes === 0,
    ),
    row(
      'Rule fuzzing',
      'problems not on one line / not `<dir>/<file>: <path>: …`',
      lines === 0 ? '0' : `${lines}: ${example(['multi-line-problem', 'problem-format'])}`,
      '0',
      lines === 0,
    ),
    row(
      'Rule fuzzing',
      'prototype pollution or code run from a path',
      by('prototype-polluted') + by('code-ran'),
      '0',
      by('prototype-polluted') + by('code-ran') === 0,
    ),
    row(
      'Rule fuzzing',
      `grants with the condition's fact missing (${report.missingChecked} evaluations, both evaluators)`,
      by('granted-on-missing-fact'),
      '0',
      by('granted-on-missing-fact') === 0,
    ),
  ];
}

/**
 * The notify path with the AWS channel instead of the local file channel (which skips delivery ids
 * it wrote): an SNS FIFO topic, published to with the delivery id as `MessageDeduplicationId`, and
 * SQS FIFO subscriber queues, as in AWS. Every k of the notify function, every mode, counting what
 * a subscriber receives per delivery id.
 *
 * Each run gets its own topic (`proof-notices-<n>.fifo`) and subscriber queue: SNS deduplicates
 * per topic for five minutes, and every run publishes the same delivery ids, so a shared topic
 * would (in AWS) swallow every run after the first. (fauxqs applies the deduplication id at each
 * FIFO subscriber queue, with the same five-minute window: what a subscriber receives is the same.)
 */
export async function channelPart(log: (s: string) => void): Promise<ProofRow[]> {
  const { ctx, close } = await openPart('channel');
  const savedEnv = {
    AWS_ENDPOINT_URL_SNS: process.env.AWS_ENDPOINT_URL_SNS,
    PB_NOTIFY_TOPIC_ARN: process.env.PB_NOTIFY_TOPIC_ARN,
  };
  process.env.AWS_ENDPOINT_URL_SNS = process.env.AWS_ENDPOINT_URL_SQS;
  const sns = new SNSClient({ region: process.env.AWS_REGION ?? 'cn-north-1' });
  const sqs = new SQSClient({ region: process.env.AWS_REGION ?? 'cn-north-1', useQueueUrlAsEndpoint: false });
  try {
    let sinks = 0;
    /** A new FIFO topic for the notify function (it is read when the run resets the channel) and a FIFO queue subscribed to it. */
    const subscriber = async () => {
      const n = ++sinks;
      const topic = (
        await sns.send(
          new CreateTopicCommand({
            Name: `proof-notices-${n}.fifo`,
            Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'false' },
          }),
        )
      ).TopicArn!;
      process.env.PB_NOTIFY_TOPIC_ARN = topic;
      resetNotifyRuntime();
      const url = (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: `proof-subscriber-${n}.fifo`,
            Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
          }),
        )
      ).QueueUrl!;
      const arn = (
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))
      ).Attributes!.QueueArn!;
      await sns.send(
        new SubscribeCommand({
          TopicArn: topic,
          Protocol: 'sqs',
          Endpoint: arn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      return url;
    };
    /** Every delivery id the subscriber got, in order (deleting as it reads: a FIFO queue holds back the rest of a message group while one is in flight). */
    const received = async (url: string) => {
      const ids: string[] = [];
      for (;;) {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
        );
        if (!r.Messages?.length) return ids;
        for (const m of r.Messages)
          ids.push((JSON.parse(m.Body ?? '{}') as { deliveryId: string }).deliveryId);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    };
    let url = await subscriber();
    const base = await runWithFaults(ctx, []);
    const due = new Set(await received(url));
    const ks = base.trace.filter((c) => c.phase === 'notifications').map((c) => c.n);
    let runs = 0;
    let doubledRuns = 0;
    let missingRuns = 0;
    const where = new Set<string>();
    for (const k of ks) {
      for (const mode of SWEEP_MODES) {
        url = await subscriber();
        await runWithFaults(ctx, [sweepFault(mode, k)]);
        const ids = await received(url);
        runs++;
        if (ids.length > new Set(ids).size) {
          doubledRuns++;
          const c = base.trace[k - 1]!;
          where.add(
            `${mode} ${c.operation} ${c.targets.map((t) => t.replace(`${ctx.cfg.prefix}-`, '')).join(',')}`,
          );
        }
        if ([...due].some((d) => !ids.includes(d))) missingRuns++;
      }
      log(`channel: k=${k} done`);
    }
    return [
      row(
        'Channel',
        `SNS FIFO (dedupe by delivery id): notify-phase fault runs (k over ${ks.length} calls × ${SWEEP_MODES.length} modes) missing a notification (${due.size} due per run)`,
        missingRuns,
        '0',
        missingRuns === 0 && due.size > 0,
      ),
      row(
        'Channel',
        'SNS FIFO (dedupe by delivery id): runs where a subscriber got a notification twice',
        `${doubledRuns}/${runs}${where.size ? ` (${[...where].slice(0, 3).join('; ')}${where.size > 3 ? '; …' : ''})` : ''}`,
        '0',
        doubledRuns === 0,
      ),
    ];
  } finally {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetNotifyRuntime();
    sns.destroy();
    sqs.destroy();
    await close();
  }
}
