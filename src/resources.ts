/**
 * The one place that knows the engine's tables and queues: names, keys, indexes, TTLs, DLQs and
 * redrive counts. The CDK app and the local stack both build their resources from these
 * definitions, and the runtime derives physical names from them through the config loader.
 */

export type AttributeType = 'S' | 'N';

export interface KeyDef {
  name: string;
  type: AttributeType;
}

export interface IndexDef {
  name: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  /**
   * Attributes copied into the index besides the keys (INCLUDE). Index writes are billed by the
   * size of what they copy, so list indexes carry a decision's summary, not its explanation.
   */
  include?: readonly string[];
}

/** A decision's summary: what lists, the review queue and the CSV export show. */
export const DECISION_SUMMARY = [
  'subject',
  'kind',
  'policy',
  'period',
  'status',
  'amount',
  'ref',
  'ruleVersion',
  'createdAt',
  'updatedAt',
  'reviewReason',
  'reviewBucket',
  'flag',
  'recipients',
  'eventIds',
] as const;

export interface TableDef {
  /** Logical id, also the suffix of the physical name. */
  id: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  indexes: IndexDef[];
  /** Attribute holding an epoch-seconds expiry, when records expire. */
  ttlAttribute?: string;
}

export interface QueueDef {
  id: string;
  /** Receives after which a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Timeout of the function that consumes the queue; the visibility timeout is six times it. */
  consumerTimeoutSeconds: number;
  retentionDays: number;
  dlqRetentionDays: number;
}

const S = (name: string): KeyDef => ({ name, type: 'S' });
const N = (name: string): KeyDef => ({ name, type: 'N' });

/** Tables by logical id. */
export const TABLES = {
  /** One item per subject: merged facts with provenance, decided periods, ledger chain head. */
  profiles: { id: 'profiles', partitionKey: S('pk'), indexes: [] },
  /** Receipts of accepted events (id -> body hash), for duplicate and id-conflict detection. */
  events: { id: 'events', partitionKey: S('pk'), indexes: [] },
  /** Decisions per (subject, policy#period), indexed for the reviewer's queries. */
  decisions: {
    id: 'decisions',
    partitionKey: S('pk'),
    sortKey: S('sk'),
    indexes: [
      {
        name: 'byPolicyPeriod',
        partitionKey: S('policyPeriod'),
        sortKey: S('createdAt'),
        include: DECISION_SUMMARY,
      },
      { name: 'byStatus', partitionKey: S('status'), sortKey: S('createdAt'), include: DECISION_SUMMARY },
      { name: 'byPolicy', partitionKey: S('policy'), sortKey: S('createdAt'), include: DECISION_SUMMARY },
      { name: 'byRef', partitionKey: S('ref'), include: DECISION_SUMMARY },
      {
        name: 'reviewQueue',
        partitionKey: S('reviewBucket'),
        sortKey: S('createdAt'),
        include: DECISION_SUMMARY,
      },
    ],
  },
  /** Hash-chained ledger: one chain per subject, entries ordered by sequence number. */
  ledger: { id: 'ledger', partitionKey: S('pk'), sortKey: N('seq'), indexes: [] },
  /** Notifications written with the grant, relayed to the notifications queue. */
  outbox: { id: 'outbox', partitionKey: S('pk'), sortKey: S('sk'), indexes: [] },
  /**
   * Delivery records, under their recipient (pk) and delivery id (sk): the notices a person
   * received are one query, so a guardian finds the decisions about a child without an index.
   */
  deliveries: { id: 'deliveries', partitionKey: S('pk'), sortKey: S('sk'), indexes: [] },
  /** Rejected events with their reasons, for operators to list and replay. */
  quarantine: { id: 'quarantine', partitionKey: S('pk'), sortKey: S('sk'), indexes: [] },
  /** Engine state that is not about one subject: the published policy versions. */
  meta: { id: 'meta', partitionKey: S('pk'), indexes: [] },
  /** Powertools idempotency records. */
  idempotency: { id: 'idempotency', partitionKey: S('id'), indexes: [], ttlAttribute: 'expiration' },
} as const satisfies Record<string, TableDef>;

export type TableId = keyof typeof TABLES;

/** Queues by logical id; each has a dead-letter queue named `<id>-dlq`. */
export const QUEUES = {
  agencyEvents: {
    id: 'agency-events',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 30,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  /** Subjects whose facts changed, to evaluate (after every event delivered with them). */
  evaluations: {
    id: 'evaluations',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 30,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  notifications: {
    id: 'notifications',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 30,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  backfill: {
    id: 'backfill',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 300,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
} as const satisfies Record<string, QueueDef>;

export type QueueId = keyof typeof QUEUES;

/** Visibility timeout: six times the consumer's timeout, as AWS recommends for event-source mappings. */
export const visibilityTimeoutSeconds = (q: QueueDef): number => q.consumerTimeoutSeconds * 6;

/** Physical table name under a prefix (e.g. `pb-dev`). */
export const tableName = (prefix: string, id: TableId): string => `${prefix}-${TABLES[id].id}`;

/** Physical queue name under a prefix. */
export const queueName = (prefix: string, id: QueueId): string => `${prefix}-${QUEUES[id].id}`;

/** Physical dead-letter queue name under a prefix. */
export const dlqName = (prefix: string, id: QueueId): string => `${prefix}-${QUEUES[id].id}-dlq`;
