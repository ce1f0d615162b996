import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { fromDecisionItem, outboxItem } from '../adapters/dynamodb/subject-store.ts';
import { queryAll } from '../adapters/dynamodb/scan.ts';
import type { Config } from '../config.ts';
import { type ChainHead, decisionKey } from '../domain/engine/model.ts';
import { type LedgerEntry, nextEntry } from '../domain/ledger/index.ts';
import { TABLES } from '../resources.ts';
import type {
  DecisionIndex,
  Partition,
  PartitionFilter,
  PartitionRead,
  ResumeKey,
  ReviewStore,
  StoredDecision,
  TransitionPlan,
  TransitionResult,
} from './ports.ts';
import { ApiError, badRequest } from './http.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const INDEX_KEYS = Object.fromEntries(
  TABLES.decisions.indexes.map((ix) => [
    ix.name,
    { pk: ix.partitionKey.name, sk: 'sortKey' in ix ? ix.sortKey.name : undefined },
  ]),
) as Record<string, { pk: string; sk?: string }>;

/**
 * A resume key from a cursor must be one this store issued for the partition: the table's and the
 * index's key attributes, strings, in that partition. Anything else (a damaged or forged cursor)
 * is a 400, not a DynamoDB validation error.
 */
function checkResumeKey(start: ResumeKey, p: Partition, keys: { pk: string; sk: string }): void {
  const want = new Set(['pk', 'sk', keys.pk, keys.sk]);
  const names = Object.keys(start);
  if (
    names.length !== want.size ||
    !names.every((n) => want.has(n) && typeof start[n] === 'string' && start[n] !== '') ||
    start[keys.pk] !== p.value
  ) {
    throw badRequest('cursor: not a cursor this API issued; start again without it');
  }
}

/** Keys of an index, from the one table definition. */
function indexKeys(index: DecisionIndex): { pk: string; sk: string } {
  const k = INDEX_KEYS[index];
  if (!k?.sk) throw new Error(`decisions index ${index} is not defined with a sort key`);
  return { pk: k.pk, sk: k.sk };
}

const MAX_ATTEMPTS = 8;

/** A stored item as the API reads it: the domain record, plus whether it sits in the review queue. */
const storedDecision = (item: Record<string, unknown>): StoredDecision => ({
  ...fromDecisionItem(item),
  inReviewQueue: item.reviewBucket === 'review',
});

/** The review API's store on the engine's DynamoDB tables. Reads through indexes only. */
export class DynamoReviewStore implements ReviewStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly config: Config,
  ) {}

  async readPartition(
    p: Partition,
    filter: PartitionFilter,
    start: ResumeKey | undefined,
    want: number,
  ): Promise<PartitionRead> {
    const keys = indexKeys(p.index);
    const names: Record<string, string> = { '#pk': keys.pk };
    const values: Record<string, unknown> = { ':pk': p.value };
    let keyCondition = '#pk = :pk';
    if (filter.from || filter.to) {
      names['#sk'] = keys.sk;
      if (filter.from) values[':from'] = filter.from;
      if (filter.to) values[':to'] = filter.to;
      keyCondition +=
        filter.from && filter.to
          ? ' AND #sk BETWEEN :from AND :to'
          : filter.from
            ? ' AND #sk >= :from'
            : ' AND #sk <= :to';
    }
    const filters: string[] = [];
    if (filter.status && keys.pk !== 'status') {
      names['#status'] = 'status';
      values[':status'] = filter.status;
      filters.push('#status = :status');
    }
    if (filter.period && keys.pk !== 'policyPeriod') {
      names['#period'] = 'period';
      values[':period'] = filter.period;
      filters.push('#period = :period');
    }
    if (start !== undefined) checkResumeKey(start, p, keys);
    const out: PartitionRead = { items: [] };
    let exclusive: ResumeKey | undefined = start;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.config.table('decisions'),
          IndexName: p.index,
          KeyConditionExpression: keyCondition,
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: Math.max(want, 25),
          ExclusiveStartKey: exclusive,
        }),
      );
      for (const item of r.Items ?? []) {
        out.items.push({
          decision: storedDecision(item),
          key: {
            pk: item.pk as string,
            sk: item.sk as string,
            [keys.pk]: item[keys.pk] as string,
            [keys.sk]: item[keys.sk] as string,
          },
        });
      }
      exclusive = r.LastEvaluatedKey as ResumeKey | undefined;
    } while (exclusive && out.items.length < want);
    if (exclusive) out.next = exclusive;
    return out;
  }

  async getDecision(subject: string, policy: string, period: string): Promise<StoredDecision | undefined> {
    const r = await this.doc.send(
      new GetCommand({
        TableName: this.config.table('decisions'),
        Key: { pk: subject, sk: decisionKey(policy, period) },
        ConsistentRead: true,
      }),
    );
    return r.Item ? storedDecision(r.Item) : undefined;
  }

  async decisionsByRef(ref: string): Promise<StoredDecision[]> {
    // The index carries a summary only: find the keys there, then read each whole decision.
    const out: StoredDecision[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.config.table('decisions'),
      IndexName: 'byRef',
      KeyConditionExpression: '#ref = :ref',
      ProjectionExpression: 'pk, sk',
      ExpressionAttributeNames: { '#ref': 'ref' },
      ExpressionAttributeValues: { ':ref': ref },
    })) {
      const r = await this.doc.send(
        new GetCommand({ TableName: this.config.table('decisions'), Key: { pk: item.pk, sk: item.sk } }),
      );
      if (r.Item) out.push(storedDecision(r.Item));
    }
    return out;
  }

  async decisionsOfSubject(subject: string): Promise<StoredDecision[]> {
    return this.collect({
      TableName: this.config.table('decisions'),
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': subject },
    });
  }

  async refsNotifiedTo(recipient: string): Promise<string[]> {
    const refs = new Set<string>();
    for await (const item of queryAll(this.doc, {
      TableName: this.config.table('deliveries'),
      KeyConditionExpression: 'pk = :pk',
      ProjectionExpression: '#ref',
      ExpressionAttributeNames: { '#ref': 'ref' },
      ExpressionAttributeValues: { ':pk': recipient },
    })) {
      if (typeof item.ref === 'string') refs.add(item.ref);
    }
    return [...refs];
  }

  async history(subject: string, key: string): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    for await (const item of queryAll(this.doc, {
      TableName: this.config.table('ledger'),
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#payload.#decision = :key',
      ExpressionAttributeNames: { '#payload': 'payload', '#decision': 'decision' },
      ExpressionAttributeValues: { ':pk': subject, ':key': key },
      ConsistentRead: true,
    })) {
      const { pk: _pk, ...entry } = item;
      out.push(entry as unknown as LedgerEntry);
    }
    return out;
  }

  async transition(
    subject: string,
    policy: string,
    period: string,
    plan: (current: StoredDecision) => TransitionPlan,
  ): Promise<TransitionResult | undefined> {
    const key = decisionKey(policy, period);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.getDecision(subject, policy, period);
      if (!current) return undefined;
      const change = plan(current);
      const profile = await this.doc.send(
        new GetCommand({
          TableName: this.config.table('profiles'),
          Key: { pk: subject },
          ConsistentRead: true,
          ProjectionExpression: '#ledger, #version',
          ExpressionAttributeNames: { '#ledger': 'ledger', '#version': 'version' },
        }),
      );
      if (!profile.Item) throw new Error(`decision ${subject}/${key} has no profile to chain its ledger on`);
      const version = profile.Item.version as number;
      const head = profile.Item.ledger as ChainHead | undefined;
      const entry = nextEntry(head, { chain: subject, ...change.ledger });
      // A revoked or declined decision is closed: later facts no longer flag it (see the engine).
      const closes = change.set.status === 'revoked' || change.set.status === 'declined';
      const sets = ['#ledger = :head', '#version = :next'];
      if (change.grantedAmount !== undefined) sets.push('#decided.#key.#granted = :granted');
      if (closes) sets.push('#decided.#key.#closed = :closed');
      const items: TransactItem[] = [
        this.decisionUpdate(subject, key, current, change),
        {
          Put: {
            TableName: this.config.table('ledger'),
            Item: { pk: entry.chain, ...entry },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.config.table('profiles'),
            Key: { pk: subject },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: '#version = :v',
            ExpressionAttributeNames: {
              '#ledger': 'ledger',
              '#version': 'version',
              ...(change.grantedAmount !== undefined || closes ? { '#decided': 'decided', '#key': key } : {}),
              ...(change.grantedAmount === undefined ? {} : { '#granted': 'grantedAmount' }),
              ...(closes ? { '#closed': 'closed' } : {}),
            },
            ExpressionAttributeValues: {
              ':head': { seq: entry.seq, hash: entry.hash },
              ':next': version + 1,
              ':v': version,
              ...(change.grantedAmount === undefined ? {} : { ':granted': change.grantedAmount }),
              ...(closes ? { ':closed': true } : {}),
            },
          },
        },
        ...change.outbox.map((r) => ({
          Put: { TableName: this.config.table('outbox'), Item: outboxItem(r) },
        })),
      ];
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (e) {
        if ((e as Error).name !== 'TransactionCanceledException') throw e;
        const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
        const retryable = reasons.some(
          (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
        );
        if (!retryable) throw e;
        // Someone else moved the decision or the profile first: read again. A status that no
        // longer allows the action makes `plan` throw its 409 on the next round.
        // Full jitter, doubling: 8 attempts span about two seconds of contention.
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * Math.min(800, 12 * 2 ** attempt))));
        continue;
      }
      const updated = (await this.getDecision(subject, policy, period)) ?? current;
      return { decision: updated, entry, outbox: change.outbox };
    }
    throw new ApiError(
      503,
      `busy: other changes to this subject's decisions kept coming first (${MAX_ATTEMPTS} tries); try again`,
    );
  }

  private decisionUpdate(
    subject: string,
    key: string,
    current: StoredDecision,
    change: TransitionPlan,
  ): TransactItem {
    const names: Record<string, string> = { '#status': 'status', '#reviews': 'reviews' };
    const values: Record<string, unknown> = {
      ':expected': current.status,
      ':review': [change.review],
      ':none': [],
    };
    const sets = ['#reviews = list_append(if_not_exists(#reviews, :none), :review)'];
    Object.entries(change.set).forEach(([attr, value], i) => {
      names[`#s${i}`] = attr;
      values[`:s${i}`] = value;
      sets.push(`#s${i} = :s${i}`);
    });
    const removes = change.remove.map((attr, i) => {
      names[`#r${i}`] = attr;
      return `#r${i}`;
    });
    return {
      Update: {
        TableName: this.config.table('decisions'),
        Key: { pk: subject, sk: key },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: '#status = :expected',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  private async collect(input: QueryCommandInput): Promise<StoredDecision[]> {
    const out: StoredDecision[] = [];
    for await (const item of queryAll(this.doc, input)) out.push(storedDecision(item));
    return out;
  }
}
