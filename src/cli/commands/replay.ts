import { readFileSync, writeFileSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { queryAll, scanAll } from '../../adapters/dynamodb/scan.ts';
import { fromDecisionItem } from '../../adapters/dynamodb/subject-store.ts';
import { drainQueues, sendLines } from '../../local/pipeline.ts';
import { retryBackoff } from '../../local/poller.ts';
import { openLocalEngine } from '../../local/session.ts';
import { runtimeConfig } from '../../runtime/engine.ts';
import { type Command, CommandFailed, parseOptions, required, UsageError } from '../io.ts';

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
  const now = required(values.now, 'now');
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(now) ||
    Number.isNaN(Date.parse(now))
  ) {
    throw new UsageError(
      `--now '${now}' is not an ISO 8601 date-time with offset (e.g. 2026-03-01T09:00:00+08:00)`,
    );
  }
  if (!existsSync(file)) throw new CommandFailed(`cannot read ${file}: no such file`);
  const concurrency = values.concurrency ? Number(values.concurrency) : 2;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new UsageError('--concurrency must be a whole number from 1 to 32');
  }
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((body, i) => ({ line: i + 1, body: body.replace(/\r$/, '') }))
    .filter((l) => l.body.trim() !== '');

  // Notifications of this run go to a file of its own, so the count is this run's.
  const tmp = mkdtempSync(join(tmpdir(), 'pb-replay-'));
  const notifyFile = join(tmp, 'notifications.jsonl');
  process.env.PB_NOTIFY_FILE = notifyFile;
  const engine = await openLocalEngine({ now });
  try {
    const sqs = sqsClient();
    const sent = new Set(
      await sendLines(sqs, engine.queues.agencyEvents.url, lines, (n) =>
        io.progress(`queued ${n}/${lines.length}`),
      ),
    );
    await drainQueues(engine.queues, engine.consumers, {
      concurrency,
      // A failed message waits 1, 2, 4 … s before its next receive, as Lambda's visibility timeout
      // spaces them: a spell of throttling does not use up maxReceiveCount and dead-letter it.
      retryDelaySeconds: retryBackoff,
      onProgress: (t) =>
        io.progress(`processed ${t.perQueue.agencyEvents?.succeeded ?? 0}/${lines.length} events`),
    });
    io.progress('');
    const cfg = runtimeConfig();
    const doc = docClient();
    const decisions: ReplayDecisionLine[] = [];
    for await (const item of scanAll(doc, cfg.table('decisions'))) {
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
    const rejected: Array<{ line: number; id: string | null; reason: string }> = [];
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
    return 0;
  } finally {
    await engine.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
};
