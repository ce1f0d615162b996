import { type ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../config.ts';
import type { Decision, OutboxRow, Profile } from '../../domain/engine/model.ts';
import { decisionKey } from '../../domain/engine/model.ts';
import { DETAIL_ATTRIBUTE, isSummaryField, packDetail, unpackDetail } from './decision-detail.ts';
import type {
  CommitResult,
  EventReceipt,
  ManyRead,
  OutboxRelay,
  Quarantine,
  ReceiptResult,
  Rejection,
  SubjectCommit,
  SubjectStore,
} from '../../domain/engine/ports.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Item shape of a decision: the summary fields as plain attributes (what indexes project and
 * queries filter on), the rest packed into one compressed attribute (see decision-detail.ts), plus
 * the keys of the reviewer's indexes.
 */
export function decisionItem(d: Decision): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  const detail: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(d)) {
    if (value === undefined) continue;
    (isSummaryField(name) ? summary : detail)[name] = value;
  }
  return {
    pk: d.subject,
    sk: decisionKey(d.policy, d.period),
    ...summary,
    ...(Object.keys(detail).length > 0 ? { [DETAIL_ATTRIBUTE]: packDetail(detail) } : {}),
    policyPeriod: `${d.policy}#${d.period}`,
    ...(d.reviewReason ? { reviewBucket: 'review' } : {}),
  };
}

/**
 * A stored decision item (or an index's projection of it) as the domain's record: index keys
 * stripped, the packed detail unpacked. Items written before the detail was packed hold it as plain
 * attributes and read the same; a plain attribute wins over a packed one of the same name.
 */
export function fromDecisionItem(item: Record<string, unknown>): Decision {
  const { pk: _pk, sk: _sk, policyPeriod: _pp, reviewBucket: _rb, [DETAIL_ATTRIBUTE]: packed, ...d } = item;
  if (packed !== undefined) {
    for (const [name, value] of Object.entries(unpackDetail(packed as Uint8Array)))
      if (!(name in d)) d[name] = value;
  }
  return d as unknown as Decision;
}

/** Item shape of an outbox row. */
export const outboxItem = (r: OutboxRow): Record<string, unknown> => ({
  pk: r.subject,
  sk: r.deliveryId,
  ...r,
});

/** A stored profile item as the domain's profile. */
function toProfile(item: Record<string, unknown>): Profile {
  const { pk, ...rest } = item;
  return { ...(rest as Omit<Profile, 'subject'>), subject: pk as string };
}

/** The subject store on DynamoDB: every commit is one TransactWriteItems call. */
export class DynamoSubjectStore implements SubjectStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
  ) {}

  async getProfile(subject: string): Promise<Profile | undefined> {
    const r = await this.doc.send(
      new GetCommand({
        TableName: this.config.table('profiles'),
        Key: { pk: subject },
        ConsistentRead: true,
      }),
    );
    return r.Item ? toProfile(r.Item) : undefined;
  }

  async getMany(subjects: string[], eventIds: string[], signal?: AbortSignal): Promise<ManyRead> {
    const out: ManyRead = { profiles: new Map(), receipts: new Map() };
    const profiles = this.config.table('profiles');
    const events = this.config.table('events');
    const keys = [
      ...[...new Set(subjects)].map((pk) => ({ table: profiles, pk })),
      ...[...new Set(eventIds)].map((pk) => ({ table: events, pk })),
    ];
    // BatchGetItem takes up to 100 keys. Keys DynamoDB leaves unprocessed (throttled) are asked
    // again twice after a short pause, then left to the caller to read one by one.
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      let request: BatchGetCommandInput['RequestItems'] = {};
      for (const k of chunk) {
        request[k.table] ??= {
          Keys: [],
          // Profiles are read consistently (the merge and the decision rest on them); a receipt
          // only saves a write that would fail anyway, so a stale miss costs nothing but that write.
          ConsistentRead: k.table === profiles,
          ...(k.table === events ? { ProjectionExpression: 'pk, bodyHash' } : {}),
        };
        request[k.table]!.Keys!.push({ pk: k.pk });
      }
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt >= 3) {
          out.unread ??= new Set();
          for (const k of request[profiles]?.Keys ?? []) out.unread.add(k.pk as string);
          break;
        }
        if (attempt > 0) await new Promise((res) => setTimeout(res, 25 * 2 ** attempt));
        if (signal?.aborted) throw new Error('BatchGetItem abandoned');
        const r: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: request }),
          signal ? { abortSignal: signal } : {},
        );
        for (const item of r.Responses?.[profiles] ?? [])
          out.profiles.set(item.pk as string, toProfile(item));
        for (const item of r.Responses?.[events] ?? [])
          out.receipts.set(item.pk as string, item.bodyHash as string);
        request = r.UnprocessedKeys;
      }
    }
    return out;
  }

  async keepReceipt(receipt: EventReceipt): Promise<ReceiptResult> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.config.table('events'),
          Item: { pk: receipt.eventId, ...receipt },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'new';
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      const stored = await this.storedReceiptHash(
        receipt.eventId,
        (e as ConditionalCheckFailedException).Item,
      );
      return stored === receipt.bodyHash ? 'known' : { conflict: stored ?? '' };
    }
  }

  async commit(c: SubjectCommit, signal?: AbortSignal): Promise<CommitResult> {
    signal?.throwIfAborted();
    const abortable = signal ? { abortSignal: signal } : {};
    const t = (id: Parameters<Config['table']>[0]) => this.config.table(id);
    const { subject, ...profileRest } = c.profile;
    const profilePut = {
      TableName: t('profiles'),
      Item: { pk: subject, ...profileRest },
      ...(c.expectedVersion === 0
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': c.expectedVersion },
          }),
    };
    const alone = c.newDecisions.length + c.flags.length + c.ledger.length + c.outbox.length === 0;
    if (alone) {
      // Facts merged from an event: one conditional put (a transaction would bill it twice).
      if (!c.profileChanged) return { ok: true };
      try {
        await this.doc.send(new PutCommand(profilePut), abortable);
        return { ok: true };
      } catch (e) {
        if ((e as Error).name === 'ConditionalCheckFailedException')
          return { ok: false, reason: 'version-conflict' };
        throw e;
      }
    }
    const items: TransactItem[] = [];
    if (c.profileChanged) items.push({ Put: profilePut });
    for (const d of c.newDecisions) {
      items.push({
        Put: {
          TableName: t('decisions'),
          Item: decisionItem(d),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const f of c.flags) {
      items.push({
        Update: {
          TableName: t('decisions'),
          Key: { pk: subject, sk: f.key },
          UpdateExpression: 'SET #s = :s, flag = :f, updatedAt = :at, reviewBucket = :rb, reviewReason = :rr',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':s': 'eligibility-changed',
            ':f': f.flag,
            ':at': f.flag.at,
            ':rb': 'review',
            ':rr': 'eligibility-changed',
          },
        },
      });
    }
    for (const e of c.ledger) {
      items.push({
        Put: {
          TableName: t('ledger'),
          Item: { pk: e.chain, ...e },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const r of c.outbox) items.push({ Put: { TableName: t('outbox'), Item: outboxItem(r) } });
    if (items.length > 100)
      throw new Error(`one change of subject ${subject} needs ${items.length} writes (> 100)`);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }), abortable);
      return { ok: true };
    } catch (e) {
      if (
        !(e instanceof TransactionCanceledException) &&
        (e as Error).name !== 'TransactionCanceledException'
      )
        throw e;
      const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) {
        return { ok: false, reason: 'version-conflict' };
      }
      throw e;
    }
  }

  private async storedReceiptHash(eventId: string, item: unknown): Promise<string | undefined> {
    const fromReason = (item as { bodyHash?: { S?: string } } | undefined)?.bodyHash?.S;
    if (fromReason) return fromReason;
    const r = await this.doc.send(
      new GetCommand({ TableName: this.config.table('events'), Key: { pk: eventId }, ConsistentRead: true }),
    );
    return r.Item?.bodyHash as string | undefined;
  }

  async pendingOutbox(subject: string): Promise<OutboxRow[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.config.table('outbox'),
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': subject },
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? []).map(({ pk: _pk, sk: _sk, ...row }) => row as OutboxRow);
  }
}

/** Deletes relayed rows from the outbox. */
export async function deleteOutboxRows(
  doc: DynamoDBDocumentClient,
  config: Config,
  rows: OutboxRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 25) {
    const batch = rows.slice(i, i + 25);
    let pending: Record<string, unknown[]> | undefined = {
      [config.table('outbox')]: batch.map((r) => ({
        DeleteRequest: { Key: { pk: r.subject, sk: r.deliveryId } },
      })),
    };
    for (let attempt = 0; pending && Object.keys(pending).length > 0 && attempt < 8; attempt++) {
      // biome-ignore lint/suspicious/noExplicitAny: the SDK's request-item union is awkward to name here
      const r = await doc.send(new BatchWriteCommand({ RequestItems: pending as any }));
      pending = r.UnprocessedItems as Record<string, unknown[]> | undefined;
      if (pending && Object.keys(pending).length > 0)
        await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
    }
  }
}

/** Quarantine on DynamoDB: one item per rejected delivery, listed in arrival order. */
export class DynamoQuarantine implements Quarantine {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
  ) {}

  async keep(r: Rejection): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.config.table('quarantine'),
          Item: { pk: 'rejected', sk: r.deliveryKey, status: 'open', ...r },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }
}

export type { OutboxRelay };
