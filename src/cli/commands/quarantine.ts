import { join, resolve } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { queryAll } from '../../adapters/dynamodb/scan.ts';
import { open, redactEventId, redactIdentifiers } from '../../domain/sealed.ts';
import { drainQueues, sendLines } from '../../local/pipeline.ts';
import { openLocalEngine } from '../../local/session.ts';
import type { LocalQueue } from '../../local/stack.ts';
import { type QueueId, QUEUES } from '../../resources.ts';
import { runtimeConfig } from '../../runtime/engine.ts';
import { type Command, CommandFailed, parseOptions, readInputFile, UsageError } from '../io.ts';

const engineFor = () =>
  openLocalEngine({ persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb') });

interface QuarantineItem {
  pk?: string;
  sk: string;
  /** The delivery that brought it (message id), to tell this run's rejections from others. */
  deliveryKey?: string;
  eventId: string | null;
  reason: string;
  receivedAt: string;
  status: string;
  line?: number;
  sealedBody: string;
  preview: string;
  replayedAt?: string;
}

async function items(): Promise<QuarantineItem[]> {
  const out: QuarantineItem[] = [];
  for await (const item of queryAll(docClient(), {
    TableName: runtimeConfig().table('quarantine'),
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': 'rejected' },
    ConsistentRead: true,
  })) {
    out.push(item as unknown as QuarantineItem);
  }
  return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.sk.localeCompare(b.sk));
}

/** A dead-lettered message as operators see it: where it was, when, and a redacted preview. */
export interface DeadLetter {
  /** Queue id as `pb quarantine redrive --queue` names it (e.g. `agency-events`). */
  queue: string;
  messageId: string;
  sentAt: string;
  /** The event id (agency-events) or delivery id (notifications), identity numbers pseudonymised. */
  id: string | null;
  /** Body preview with every raw identity number replaced by its pseudonym. */
  preview: string;
}

/** Queue ids as operators type them (`agency-events`) to the engine's keys (`agencyEvents`). */
const QUEUE_BY_NAME = new Map(
  (Object.keys(QUEUES) as QueueId[]).map((k) => [QUEUES[k].id as string, k] as const),
);

/** What a dead-lettered body may show: an id and a preview, never a raw identity number. */
function describeBody(body: string, key: Buffer): { id: string | null; preview: string } {
  let id: string | null = null;
  try {
    const parsed = JSON.parse(body) as { id?: unknown; deliveryId?: unknown };
    const raw = typeof parsed.id === 'string' ? parsed.id : parsed.deliveryId;
    if (typeof raw === 'string') id = redactEventId(raw, key, true);
  } catch {
    // not JSON: the preview says enough
  }
  // Redact before cutting, so a cut cannot split an identity number into an unrecognised prefix.
  return { id, preview: redactIdentifiers(body.slice(0, 4000), key).slice(0, 300).replace(/\s+/g, ' ') };
}

/**
 * Up to ten messages of a queue. Long polling (one second), so an empty answer means the queue has
 * no visible message: a short poll asks only some of SQS's servers and may answer empty while
 * messages remain, which would make a listing or a redrive stop early.
 */
async function receiveBatch(sqs: SQSClient, url: string, visibilitySeconds: number): Promise<Message[]> {
  const r = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: visibilitySeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp'],
    }),
  );
  return r.Messages ?? [];
}

/**
 * Every message of a dead-letter queue, read without consuming it: each is held invisible while
 * the queue is read through, then made visible again.
 */
export async function peekDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  queue: string,
  key: Buffer,
): Promise<DeadLetter[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const batch = await receiveBatch(sqs, dlqUrl, 60);
    if (batch.length === 0) break;
    for (const m of batch) seen.set(m.MessageId!, m);
  }
  const held = [...seen.values()];
  for (let i = 0; i < held.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlqUrl,
        Entries: held
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  }
  return held
    .map((m) => ({
      queue,
      messageId: m.MessageId!,
      sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
      ...describeBody(m.Body ?? '', key),
    }))
    .sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.messageId.localeCompare(b.messageId));
}

/**
 * Moves every message of a dead-letter queue back to its source queue, attributes included: sent
 * first, deleted from the DLQ after, so a failure in between repeats a message (the engine
 * tolerates duplicates) and never loses one. Returns how many were moved.
 */
export async function redriveDeadLetters(sqs: SQSClient, dlqUrl: string, url: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const batch = await receiveBatch(sqs, dlqUrl, 120);
    if (batch.length === 0) return moved;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: batch.map((m, j) => ({
          Id: String(j),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0
            ? { MessageAttributes: m.MessageAttributes }
            : {}),
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((e) => Number(e.Id)));
    const done = batch.filter((_, j) => ok.has(j));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: done.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    moved += done.length;
    if (done.length < batch.length) {
      throw new CommandFailed(
        `${batch.length - done.length} messages could not be sent back: ${sent.Failed?.[0]?.Message ?? 'unknown error'}; run the command again`,
      );
    }
  }
}

/** Dead-lettered messages of every queue the engine consumes. */
async function deadLetters(queues: Record<QueueId, LocalQueue>): Promise<DeadLetter[]> {
  const key = runtimeConfig().pseudonymKey();
  const out: DeadLetter[] = [];
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    const q = queues[id];
    if (q) out.push(...(await peekDeadLetters(sqsClient(), q.dlqUrl, QUEUES[id].id, key)));
  }
  return out;
}

/**
 * `pb quarantine list [--all] [--json]`: rejected events with their reasons (open ones unless
 * --all), then the messages that reached a dead-letter queue (processing kept failing), keyed
 * `dlq:<queue>:<message id>`. Bodies are shown only as previews with identity numbers pseudonymised.
 */
export const list: Command = async (args, io) => {
  const { values } = parseOptions(args, { all: { type: 'boolean' }, json: { type: 'boolean' } });
  const engine = await engineFor();
  try {
    const rows = (await items()).filter((i) => values.all || i.status === 'open');
    for (const i of rows) {
      // Storage keys and the delivery key stay inside: `key` is what the other commands take.
      const { sealedBody: _sealed, pk: _pk, sk: _sk, deliveryKey: _dk, ...shown } = i;
      io.out(
        values.json
          ? JSON.stringify({ key: i.sk, ...shown })
          : `${i.sk}\t${i.receivedAt}\t${i.status}\t${i.eventId ?? '-'}\t${i.reason}`,
      );
    }
    const dead = await deadLetters(engine.queues);
    for (const d of dead) {
      const key = `dlq:${d.queue}:${d.messageId}`;
      io.out(
        values.json
          ? JSON.stringify({ key, status: 'dead-lettered', ...d })
          : `${key}\t${d.sentAt}\tdead-lettered\t${d.id ?? '-'}\t${d.preview}`,
      );
    }
    const summary = `${rows.length} rejected event${rows.length === 1 ? '' : 's'}${values.all ? '' : ' open'}`;
    io.out(
      dead.length === 0
        ? summary
        : `${summary}, ${dead.length} dead-lettered message${dead.length === 1 ? '' : 's'} (pb quarantine redrive)`,
    );
    return 0;
  } finally {
    await engine.stop();
  }
};

/**
 * `pb quarantine redrive [--queue agency-events]`: after the cause of repeated failures is fixed,
 * moves the queue's dead-lettered messages back to it to be processed again. When this command
 * started the local stack it also plays Lambda's part; otherwise the running consumer does.
 */
export const redrive: Command = async (args, io) => {
  const { values } = parseOptions(args, { queue: { type: 'string' } });
  const name = values.queue ?? QUEUES.agencyEvents.id;
  const id = QUEUE_BY_NAME.get(name);
  if (!id) {
    throw new UsageError(
      `--queue '${name}' is not a queue of the engine: use one of ${[...QUEUE_BY_NAME.keys()].join(', ')}`,
    );
  }
  const engine = await engineFor();
  try {
    const q = engine.queues[id];
    if (!q) throw new CommandFailed(`the running stack has no ${name} queue`);
    const moved = await redriveDeadLetters(sqsClient(), q.dlqUrl, q.url);
    if (engine.started && moved > 0) await drainQueues(engine.queues, engine.consumers);
    io.out(`${moved} dead-lettered message${moved === 1 ? '' : 's'} moved back to ${name}`);
    return 0;
  } finally {
    await engine.stop();
  }
};

/**
 * `pb quarantine replay <key…> | --all [--body-file <fixed.json>]`: puts rejected events back on
 * the agency-events queue (after the code or, with --body-file, the event itself was fixed) and
 * marks them replayed. A replayed event that is still wrong is rejected again, with a new entry.
 */
export const replay: Command = async (args, io) => {
  const { values, positionals } = parseOptions(
    args,
    { all: { type: 'boolean' }, 'body-file': { type: 'string' } },
    true,
  );
  if (!values.all && positionals.length === 0)
    throw new UsageError('name the rejected events to replay (keys from `pb quarantine list`) or pass --all');
  if (values['body-file'] && (values.all || positionals.length !== 1)) {
    throw new UsageError('--body-file replaces the body of exactly one rejected event');
  }
  let fixedBody: string | undefined;
  if (values['body-file']) fixedBody = readInputFile('body-file', values['body-file']).trim();
  const keys = [...new Set(positionals)];
  const engine = await engineFor();
  try {
    const cfg = runtimeConfig();
    const all = await items();
    const chosen = values.all
      ? all.filter((i) => i.status === 'open')
      : keys.map((k) => all.find((i) => i.sk === k));
    const missing = keys.filter((_, n) => !chosen[n]);
    if (!values.all && missing.length > 0)
      throw new CommandFailed(`no rejected event with key ${missing[0]}`);
    // An entry already replayed was either accepted or rejected again under a new key: sending its
    // old body once more would only add a duplicate rejection.
    const done = (chosen as QuarantineItem[]).filter((t) => t.status !== 'open');
    for (const t of done) io.err(`pb quarantine replay: ${t.sk} was replayed already (${t.status}); skipped`);
    const targets = (chosen as QuarantineItem[]).filter((t) => t.status === 'open');
    if (targets.length === 0)
      throw new CommandFailed('nothing to replay: every event named was replayed already');
    const bodies = targets.map((t, n) => ({
      line: t.line ?? n + 1,
      body: fixedBody ?? open(cfg.pseudonymKey(), t.sealedBody),
    }));
    const sentIds = await sendLines(sqsClient(), engine.queues.agencyEvents.url, bodies);
    const at = new Date().toISOString();
    for (const t of targets) {
      await docClient().send(
        new UpdateCommand({
          TableName: cfg.table('quarantine'),
          Key: { pk: 'rejected', sk: t.sk },
          UpdateExpression: 'SET #s = :s, replayedAt = :at',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'replayed', ':at': at },
        }),
      );
    }
    if (!engine.local) {
      // A deployed stage's ingest function takes them, with the stage's key and configuration.
      io.out(
        `${targets.length} rejected event${targets.length === 1 ? '' : 's'} sent to ${engine.queues.agencyEvents.url}; the stage's ingest function takes them (pb quarantine list shows any rejected again)`,
      );
      return 0;
    }
    // On a local stack the command plays the functions' part until the queues are empty (next to
    // npm start's pollers, if it runs), then says how each replay ended: the rejections of the
    // messages it sent, whoever processed them.
    const before = new Set(all.map((i) => i.sk));
    await drainQueues(engine.queues, engine.consumers);
    const mine = new Set(sentIds);
    const again = (await items()).filter(
      (i) =>
        !before.has(i.sk) && i.status === 'open' && i.deliveryKey !== undefined && mine.has(i.deliveryKey),
    );
    for (const r of again) {
      io.err(`pb quarantine replay: ${r.eventId ?? '(no id)'} rejected again: ${r.reason} (now ${r.sk})`);
    }
    const accepted = targets.length - again.length;
    io.out(
      `${targets.length} rejected event${targets.length === 1 ? '' : 's'} replayed: ${accepted} accepted, ${again.length} rejected again`,
    );
    return again.length > 0 ? 1 : 0;
  } finally {
    await engine.stop();
  }
};
