import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { queryAll, scanAll } from '../../adapters/dynamodb/scan.ts';
import { fromDecisionItem } from '../../adapters/dynamodb/subject-store.ts';
import { parseAgencyEvent } from '../../domain/events/parse.ts';
import { redactEventId } from '../../domain/sealed.ts';
import { dlqDepths, drainQueues, fitsQueue, sendLines } from '../../local/pipeline.ts';
import { retryBackoff } from '../../local/poller.ts';
import { openLocalEngine, stackVariables } from '../../local/session.ts';
import { runtimeConfig } from '../../runtime/engine.ts';
import {
  type Command,
  parseOptions,
  readInputFile,
  requireDistinctFiles,
  required,
  requireOutputFile,
  UsageError,
} from '../io.ts';
import { checkEngineRules, reportDeadLettered } from '../engine-rules.ts';
import { nowOption } from '../now.ts';

/** One line of the decisions output of `pb replay`. */
export interface ReplayDecisionLine {
  subject: string;
  policy: string;
  period: string;
  status: string;
  amount: number;
  newOutcome?: string;
  newAmount?: number | null;
}

const decisionId = (item: Record<string, unknown>): string => `${item.pk}\u0000${item.sk}`;
/** What changes when a decision is decided, flagged (again) or reviewed. */
const decisionState = (item: Record<string, unknown>): string => {
  const flag = item.flag as { outcome?: unknown; amount?: unknown } | undefined;
  return JSON.stringify([
    item.status,
    item.amount,
    item.updatedAt ?? item.createdAt,
    flag?.outcome,
    flag?.amount,
  ]);
};

/** The state of every stored decision, by key. */
async function decisionStates(doc: DynamoDBDocumentClient, table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const item of scanAll(doc, table)) out.set(decisionId(item), decisionState(item));
  return out;
}

/** True when two valid events of `bodies` share an id (as ingest keys it) with different content. */
export function hasIdConflict(bodies: string[], key: Buffer): boolean {
  const hashes = new Map<string, string>();
  for (const body of bodies) {
    const parsed = parseAgencyEvent(body);
    if (!parsed.ok) continue;
    const id = redactEventId(parsed.event.id, key);
    const known = hashes.get(id);
    if (known !== undefined && known !== parsed.bodyHash) return true;
    hashes.set(id, parsed.bodyHash);
  }
  return false;
}

/**
 * `pb replay --events <file.jsonl> --now <ISO date-time> [--out <decisions.jsonl>] [--rejected <file.jsonl>]`
 * Runs an event file through the real handlers on the local stack (started for this run when none
 * is running) and writes the decisions and rejections.
 */
export const replay: Command = async (args, io) => {
  const { values } = parseOptions(args, {
    events: { type: 'string' },
    now: { type: 'string' },
    out: { type: 'string' },
    rejected: { type: 'string' },
    concurrency: { type: 'string' },
  });
  const file = required(values.events, 'events');
  const now = nowOption(required(values.now, 'now'));
  // Where the results go is checked before the run, not after it.
  if (values.out) requireOutputFile('out', values.out);
  if (values.rejected) requireOutputFile('rejected', values.rejected);
  requireDistinctFiles([
    ['events', file],
    ['out', values.out],
    ['rejected', values.rejected],
  ]);
  const concurrency = values.concurrency ? Number(values.concurrency) : 2;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new UsageError('--concurrency must be a whole number from 1 to 32');
  }
  const lines = readInputFile('events', file)
    .split('\n')
    .map((body, i) => ({ line: i + 1, body: body.replace(/\r$/, '') }))
    .filter((l) => l.body.trim() !== '');

  checkEngineRules();
  // Notifications of this run go to a file of its own, so the count is this run's.
  const tmp = mkdtempSync(join(tmpdir(), 'pb-replay-'));
  const notifyFile = join(tmp, 'notifications.jsonl');
  process.env.PB_NOTIFY_FILE = notifyFile;
  const engine = await openLocalEngine({ now });
  if (!engine.local) {
    await engine.stop();
    throw new UsageError(
      `pb replay runs the functions in this process, so it works on a local stack: one it starts itself (unset ${stackVariables().join(', ')}), or one whose every queue and DLQ URL is given (PB_QUEUE_URL_<ID>, PB_DLQ_URL_<ID>); queues found by name under ${runtimeConfig().prefix} belong to a deployed stage or LocalStack, whose own functions consume them (agencies send events to its agency-events queue)`,
    );
  }
  try {
    const cfg = runtimeConfig();
    const doc = docClient();
    // A stack that was already running holds earlier runs' decisions: report only what this run
    // decided or changed.
    const before = engine.started
      ? new Map<string, string>()
      : await decisionStates(doc, cfg.table('decisions'));
    const sqs = sqsClient();
    // A line too large for any queue is refused here, as the queue would refuse an agency's send,
    // and reported with the others: it does not stop the run. (Any line that large is far over the
    // 64 KiB of an event, so ingest would reject it too, for the same reason.)
    const queued = lines.filter((l) => fitsQueue(l.body));
    const refused = lines
      .filter((l) => !fitsQueue(l.body))
      .map((l) => {
        const parsed = parseAgencyEvent(l.body);
        const id = parsed.ok ? parsed.event.id : parsed.id;
        return {
          line: l.line,
          id: id === null ? null : redactEventId(id, cfg.pseudonymKey(), true),
          reason: `${parsed.ok ? `too-large: ${Buffer.byteLength(l.body, 'utf8')} bytes` : parsed.reason} (not queued)`,
        };
      });
    for (const r of refused) io.err(`pb replay: line ${r.line}: ${r.reason}`);
    const sent = new Set(
      await sendLines(sqs, engine.queues.agencyEvents.url, queued, (n) =>
        io.progress(`queued ${n}/${queued.length}`),
      ),
    );
    // Dead-letter queues as they were: what this run adds to them is work it did not do.
    const dlqBefore = await dlqDepths(sqs, engine.queues);
    await drainQueues(engine.queues, engine.consumers, {
      concurrency,
      // Where the file holds two bodies under one id, events are taken in the order of the file,
      // one batch after the other: the earlier line is the one kept (the later one is the id
      // conflict), on every run. Otherwise the order cannot change the result (facts take the
      // latest occurredAt; a repeated body is the same event), and two pollers ingest at once.
      queueConcurrency: {
        agencyEvents: hasIdConflict(
          queued.map((l) => l.body),
          cfg.pseudonymKey(),
        )
          ? 1
          : concurrency,
      },
      // A failed message waits 1, 2, 4 … s before its next receive, as Lambda's visibility timeout
      // spaces them: a spell of throttling does not use up maxReceiveCount and dead-letter it.
      retryDelaySeconds: retryBackoff,
      onProgress: (t) =>
        io.progress(`processed ${t.perQueue.agencyEvents?.succeeded ?? 0}/${lines.length} events`),
    });
    io.progress('');
    const decisions: ReplayDecisionLine[] = [];
    for await (const item of scanAll(doc, cfg.table('decisions'))) {
      if (before.get(decisionId(item)) === decisionState(item)) continue;
      const d = fromDecisionItem(item);
      decisions.push({
        subject: d.subject,
        policy: d.policy,
        period: d.period,
        status: d.status,
        amount: d.amount,
        ...(d.flag ? { newOutcome: d.flag.outcome, newAmount: d.flag.amount } : {}),
      });
    }
    decisions.sort((a, b) =>
      a.subject === b.subject
        ? a.policy === b.policy
          ? a.period.localeCompare(b.period)
          : a.policy.localeCompare(b.policy)
        : a.subject.localeCompare(b.subject),
    );
    const rejected: Array<{ line: number; id: string | null; reason: string }> = [...refused];
    for await (const item of queryAll(doc, {
      TableName: cfg.table('quarantine'),
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': 'rejected' },
    })) {
      if (!sent.has(item.deliveryKey as string)) continue;
      rejected.push({
        line: item.line as number,
        id: (item.eventId as string | null) ?? null,
        reason: item.reason as string,
      });
    }
    rejected.sort((a, b) => a.line - b.line);
    const decisionText = decisions.map((d) => JSON.stringify(d)).join('\n');
    const rejectedText = rejected.map((r) => JSON.stringify(r)).join('\n');
    if (values.out) writeFileSync(values.out, decisionText ? `${decisionText}\n` : '');
    else if (decisionText) io.out(decisionText);
    if (values.rejected) writeFileSync(values.rejected, rejectedText ? `${rejectedText}\n` : '');
    else if (rejectedText) io.err(rejectedText);
    const notifications = existsSync(notifyFile)
      ? readFileSync(notifyFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim()).length
      : 0;
    io.out(
      `events: ${lines.length}, accepted: ${lines.length - rejected.length}, rejected: ${rejected.length}, decisions: ${decisions.length}, notifications: ${notifications}`,
    );
    // A message that failed every attempt is no rejection but work the run did not do: say so, fail.
    const lost = reportDeadLettered(
      io,
      'replay',
      dlqBefore,
      await dlqDepths(sqs, engine.queues),
      engine.started,
    );
    return lost > 0 ? 1 : 0;
  } finally {
    await engine.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
};
