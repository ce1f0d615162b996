import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { docClient, sqsClient } from '../../adapters/aws.ts';
import { queryAll } from '../../adapters/dynamodb/scan.ts';
import { open } from '../../domain/sealed.ts';
import { drainQueues, sendLines } from '../../local/pipeline.ts';
import { openLocalEngine } from '../../local/session.ts';
import { runtimeConfig } from '../../runtime/engine.ts';
import { type Command, CommandFailed, parseOptions, UsageError } from '../io.ts';

const engineFor = () =>
  openLocalEngine({ persistDir: join(resolve(process.env.PB_DATA_DIR ?? '.data'), 'dynamodb') });

interface QuarantineItem {
  sk: string;
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

/**
 * `pb quarantine list [--all] [--json]`: rejected events with their reasons (open ones unless --all).
 * Bodies are shown only as previews with identity numbers pseudonymised.
 */
export const list: Command = async (args, io) => {
  const { values } = parseOptions(args, { all: { type: 'boolean' }, json: { type: 'boolean' } });
  const engine = await engineFor();
  try {
    const rows = (await items()).filter((i) => values.all || i.status === 'open');
    for (const i of rows) {
      const { sealedBody: _sealed, ...shown } = i;
      io.out(
        values.json
          ? JSON.stringify({ key: i.sk, ...shown })
          : `${i.sk}\t${i.receivedAt}\t${i.status}\t${i.eventId ?? '-'}\t${i.reason}`,
      );
    }
    io.out(`${rows.length} rejected event${rows.length === 1 ? '' : 's'}${values.all ? '' : ' open'}`);
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
  if (values['body-file']) {
    if (!existsSync(values['body-file']))
      throw new CommandFailed(`cannot read ${values['body-file']}: no such file`);
    fixedBody = readFileSync(values['body-file'], 'utf8').trim();
  }
  const engine = await engineFor();
  try {
    const cfg = runtimeConfig();
    const all = await items();
    const chosen = values.all
      ? all.filter((i) => i.status === 'open')
      : positionals.map((k) => all.find((i) => i.sk === k));
    const missing = positionals.filter((_, n) => !chosen[n]);
    if (!values.all && missing.length > 0)
      throw new CommandFailed(`no rejected event with key ${missing[0]}`);
    const targets = chosen as QuarantineItem[];
    const bodies = targets.map((t, n) => ({
      line: t.line ?? n + 1,
      body: fixedBody ?? open(cfg.pseudonymKey(), t.sealedBody),
    }));
    await sendLines(sqsClient(), engine.queues.agencyEvents.url, bodies);
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
    // When this command started the stack it also plays Lambda's part; otherwise the running
    // consumer (npm start, or the event-source mapping in AWS) picks the events up.
    if (engine.started) await drainQueues(engine.queues, engine.consumers);
    io.out(`${targets.length} rejected event${targets.length === 1 ? '' : 's'} replayed`);
    return 0;
  } finally {
    await engine.stop();
  }
};
