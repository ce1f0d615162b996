/**
 * Runs an event stream through the real handlers on a local stack and reads back everything the
 * engine promises about, as one comparable {@link EngineState}. Used by the fault, throttling,
 * poison and security tests and by `npm run proof`.
 *
 * The harness reads and resets state through clients of its own ({@link cleanClients}), so faults
 * injected into the engine's clients never touch the bookkeeping.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import canonicalize from 'canonicalize';
import { scanAll } from '../adapters/dynamodb/scan.ts';
import { DynamoLedgerReader } from '../adapters/ledger-store.ts';
import type { Config } from '../config.ts';
import { parseAgencyEvent } from '../domain/events/parse.ts';
import { factUpdates, mergeFacts } from '../domain/facts/merge.ts';
import { verifyLedgerFrom } from '../domain/ledger/index.ts';
import { pseudonymiseEvent } from '../domain/pseudonym.ts';
import { redactEventId } from '../domain/sealed.ts';
import type { StoredFacts } from '../domain/types.ts';
import { type Consumers, drainQueues, queueDepth, sendLines, type DrainTotals } from '../local/pipeline.ts';
import type { LocalQueue } from '../local/stack.ts';
import { type QueueId, QUEUES, TABLES, type TableId } from '../resources.ts';
import { resetNotifyRuntime } from '../runtime/notify.ts';

/** What the harness needs of a running engine (the shape of the integration tests' TestEngine). */
export interface EngineSlice {
  queues: Record<QueueId, LocalQueue>;
  consumers: Consumers;
  /** The local channel's JSONL file (`PB_NOTIFY_FILE`). */
  notifyFile: string;
}

/** Clients for bookkeeping, separate from the engine's (which may be faulty). */
export interface CleanClients {
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  destroy(): void;
}

/** Builds bookkeeping clients from the same environment the engine reads (endpoints, region). */
export function cleanClients(): CleanClients {
  const region = process.env.AWS_REGION ?? 'cn-north-1';
  const dynamo = new DynamoDBClient({ region, maxAttempts: 4 });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient({ region, maxAttempts: 4, useQueueUrlAsEndpoint: false });
  return {
    dynamo,
    doc,
    sqs,
    destroy: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
}

/**
 * Everything a run leaves behind that the engine's promises are about, normalised for comparison.
 *
 * Decisions depend on arrival order by design: a grant is made on the facts known when it is
 * decided, and a later event that changes them flags it (eligibility-changed) instead of undoing
 * it. SQS does not keep order and redelivery reorders, so two runs of one stream may differ in
 * which grants were made and then flagged, even without faults. What must not differ is what each
 * (subject, policy, period) comes to on the final facts: {@link EngineState.outcomes}.
 */
export interface EngineState {
  /** `subject|policy|period|status|amount`, sorted: equal across runs only when order did not matter. */
  decisions: string[];
  /** `subject|policy|period=amount` of what each decision stands for now (granted, or flagged still eligible). */
  outcomes: string[];
  ledgerEntries: number;
  /** Delivery ids of the notification file's lines, sorted (a doubled line appears twice). */
  notifications: string[];
  /** Delivery records, sorted. */
  deliveries: string[];
  /** Event receipts (accepted event ids), sorted. */
  receipts: string[];
  /** Rejected events kept with their reason: `eventId|reason`, sorted. */
  quarantined: string[];
  /**
   * `subject|sha256(canonical facts)`, sorted: facts must not depend on faults or order (versions
   * do: they count commits, and how often a subject was evaluated depends on arrival order).
   */
  profiles: string[];
  /** Messages per queue and dead-letter queue (visible, in flight or delayed). */
  queues: Record<string, number>;
  /**
   * Broken promises visible in the state alone: ledger not verifying or not one entry per grant
   * and flag, a grant's notification missing or doubled, a delivery record missing, outbox rows or
   * messages left behind.
   */
  problems: string[];
}

async function items(doc: DynamoDBDocumentClient, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const i of scanAll(doc, table)) out.push(i);
  return out;
}

/** Delivery ids of the local channel's file, one per line. */
export function notificationLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { deliveryId: string }).deliveryId);
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** What a stored decision stands for now: its amount, the flagged amount, or null (no longer eligible). */
export function currentValue(d: Record<string, unknown>): number | null {
  const flag = d.flag as { outcome: string; amount: number | null } | undefined;
  if (!flag) return d.amount as number;
  return flag.outcome === 'eligible' ? flag.amount : null;
}

/** Entries of `actual` missing from or extra to `expected`, as multisets. */
export function diffList(name: string, expected: readonly string[], actual: readonly string[]): string[] {
  const count = (l: readonly string[]) => {
    const m = new Map<string, number>();
    for (const x of l) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const e = count(expected);
  const a = count(actual);
  const out: string[] = [];
  for (const [k, n] of e) if ((a.get(k) ?? 0) < n) out.push(`${name}: missing ${k}`);
  for (const [k, n] of a) if ((e.get(k) ?? 0) < n) out.push(`${name}: extra ${k}`);
  return out;
}

/** Delivery ids that appear more than once in a list. */
export function doubled(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice].sort();
}

/** Reads the state of every table, queue and the notification file of a slice. */
export async function engineState(slice: EngineSlice, c: CleanClients, cfg: Config): Promise<EngineState> {
  const t = (id: TableId) => cfg.table(id);
  const stored = await items(c.doc, t('decisions'));
  const decisions = stored.map((d) => `${d.subject}|${d.policy}|${d.period}|${d.status}|${d.amount}`).sort();
  const outcomes = stored
    .map((d) => [`${d.subject}|${d.policy}|${d.period}`, currentValue(d)] as const)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const flags = stored.filter((d) => d.flag).length;
  // Every grant notifies each of its recipients once (delivery id = reference:recipient:grant).
  const due = stored
    .flatMap((d) => ((d.recipients as string[] | undefined) ?? []).map((r) => `${d.ref}:${r}:grant`))
    .sort();
  const verified = await verifyLedgerFrom(
    new DynamoLedgerReader(c.doc, cfg, { where: 'none', list: async () => [], put: async () => {} }),
  );
  const outbox = (await items(c.doc, t('outbox'))).length;
  const profiles = (await items(c.doc, t('profiles')))
    .map((p) => `${p.pk}|${sha(canonicalize(p.facts) ?? '')}`)
    .sort();
  const queues: Record<string, number> = {};
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    queues[id] = await queueDepth(c.sqs, slice.queues[id].url);
    queues[`${id}-dlq`] = await queueDepth(c.sqs, slice.queues[id].dlqUrl);
  }
  const notifications = notificationLines(slice.notifyFile).sort();
  const deliveries = (await items(c.doc, t('deliveries'))).map((d) => String(d.deliveryId)).sort();
  const problems: string[] = [];
  if (!verified.ok) problems.push(`ledger: ${verified.firstFailure?.problem ?? 'does not verify'}`);
  if (verified.checked !== stored.length + flags)
    problems.push(`ledger: ${verified.checked} entries for ${stored.length} grants and ${flags} flags`);
  for (const d of doubled(notifications)) problems.push(`notification doubled: ${d}`);
  problems.push(...diffList('notification', due, [...new Set(notifications)]));
  problems.push(...diffList('delivery record', due, deliveries));
  if (outbox !== 0) problems.push(`outbox: ${outbox} rows left`);
  for (const [q, n] of Object.entries(queues)) if (n !== 0) problems.push(`queue ${q}: ${n} messages left`);
  return {
    decisions,
    outcomes,
    ledgerEntries: verified.checked,
    notifications,
    deliveries,
    receipts: (await items(c.doc, t('events'))).map((e) => String(e.pk)).sort(),
    quarantined: (await items(c.doc, t('quarantine'))).map((q) => `${q.eventId}|${q.reason}`).sort(),
    profiles,
    queues,
    problems,
  };
}

/**
 * Differences between a run's state and the fault-free run's (empty: converged): what each
 * decision comes to, the facts, the accepted and rejected events, plus the run's own problems.
 */
export function compareStates(expected: EngineState, actual: EngineState): string[] {
  return [
    ...diffList('outcome', expected.outcomes, actual.outcomes),
    ...diffList('receipt', expected.receipts, actual.receipts),
    ...diffList('quarantined', expected.quarantined, actual.quarantined),
    ...diffList('profile', expected.profiles, actual.profiles),
    ...actual.problems,
  ];
}

/**
 * An independent computation's outcomes (`subject|policy|period` → amount or null, as
 * `expectedOutcomes` in the integration tests gives them) in the form of {@link EngineState.outcomes}.
 */
export function outcomeList(expected: ReadonlyMap<string, number | null>): string[] {
  return [...expected]
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
}

/**
 * What {@link EngineState.profiles} should be, folded without the pipeline: every accepted event's
 * facts merged per subject, as the engine stores them. Also the ids of the accepted events.
 */
export function expectedProfiles(
  bodies: Iterable<string>,
  key: Buffer,
): { profiles: string[]; receipts: string[] } {
  const facts = new Map<string, StoredFacts>();
  const receipts = new Set<string>();
  for (const body of bodies) {
    const parsed = parseAgencyEvent(body, key);
    if (!parsed.ok) continue;
    const p = pseudonymiseEvent(key, parsed.event);
    const event = { ...p, id: redactEventId(p.id, key) };
    receipts.add(event.id);
    facts.set(event.subject.id, mergeFacts(facts.get(event.subject.id) ?? {}, factUpdates(event)).facts);
  }
  return {
    profiles: [...facts].map(([s, f]) => `${s}|${sha(canonicalize(f) ?? '')}`).sort(),
    receipts: [...receipts].sort(),
  };
}

/** True when the decisions are the very same (subject, policy, period, status, amount) tuples. */
export const sameDecisions = (a: EngineState, b: EngineState): boolean =>
  a.decisions.length === b.decisions.length && a.decisions.every((d, i) => d === b.decisions[i]);

/**
 * Empties every table, queue and the notification file of a slice, so the next run starts from
 * nothing on the same resources (the handlers keep their cold-start state, as a warm Lambda does).
 */
export async function resetState(slice: EngineSlice, c: CleanClients, cfg: Config): Promise<void> {
  for (const id of Object.keys(TABLES) as TableId[]) {
    const def = TABLES[id] as { partitionKey: { name: string }; sortKey?: { name: string } };
    const keys = [def.partitionKey.name, ...(def.sortKey ? [def.sortKey.name] : [])];
    const all = await items(c.doc, cfg.table(id));
    for (let i = 0; i < all.length; i += 25) {
      let pending: Record<string, unknown[]> | undefined = {
        [cfg.table(id)]: all.slice(i, i + 25).map((item) => ({
          DeleteRequest: { Key: Object.fromEntries(keys.map((k) => [k, item[k]])) },
        })),
      };
      while (pending && Object.keys(pending).length > 0) {
        // biome-ignore lint/suspicious/noExplicitAny: the SDK's request-item union is awkward to name here
        const r = await c.doc.send(new BatchWriteCommand({ RequestItems: pending as any }));
        pending = r.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  }
  for (const id of Object.keys(QUEUES) as QueueId[]) {
    await c.sqs.send(new PurgeQueueCommand({ QueueUrl: slice.queues[id].url }));
    await c.sqs.send(new PurgeQueueCommand({ QueueUrl: slice.queues[id].dlqUrl }));
  }
  rmSync(slice.notifyFile, { force: true });
  // The local channel remembers the delivery ids it wrote; a new file needs a new channel.
  resetNotifyRuntime();
}

/** Bodies as numbered lines for the queue (line attribute = position in the stream). */
export const asLines = (bodies: readonly string[]) => bodies.map((body, i) => ({ line: i + 1, body }));

/** Queues a stream and plays Lambda's part until every queue is empty; returns the drain totals. */
export async function runStream(
  slice: EngineSlice,
  c: CleanClients,
  bodies: readonly string[],
  opts: { consumers?: Consumers; concurrency?: number } = {},
): Promise<DrainTotals> {
  await sendLines(c.sqs, slice.queues.agencyEvents.url, asLines(bodies));
  return drainQueues(slice.queues, opts.consumers ?? slice.consumers, {
    concurrency: opts.concurrency ?? 1,
    sqs: c.sqs,
  });
}
