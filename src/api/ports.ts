/**
 * What the review API needs from storage. The DynamoDB adapter (`dynamo-store.ts`) reads the
 * decisions table through its indexes; the in-memory one (`memory-store.ts`) serves unit tests.
 */
import type { Decision, DecisionStatus, OutboxRow } from '../domain/engine/model.ts';
import type { LedgerEntry, LedgerKind, LedgerPayload } from '../domain/ledger/index.ts';

/** The decision indexes the API reads (see `TABLES.decisions` in src/resources.ts). */
export type DecisionIndex = 'byPolicyPeriod' | 'byStatus' | 'byPolicy' | 'reviewQueue';

/** A decision as the API reads it: the engine's record plus what reviews added to it. */
export interface StoredDecision extends Decision {
  /** Every review action and citizen answer, oldest first. */
  reviews?: ReviewRecord[];
  /** True while the decision waits in the review queue. */
  inReviewQueue: boolean;
}

/** One partition of one index: e.g. `byStatus` = `granted`. */
export interface Partition {
  index: DecisionIndex;
  value: string;
}

/** Conditions on top of the index key: a creation-time range and attributes the index does not key on. */
export interface PartitionFilter {
  /** Inclusive lower bound of `createdAt` (ISO, UTC). */
  from?: string;
  /** Inclusive upper bound of `createdAt` (ISO, UTC). */
  to?: string;
  status?: DecisionStatus;
  period?: string;
}

/** Where a partition's read resumes: the stored key of the last item consumed (opaque to callers). */
export type ResumeKey = Record<string, string | number>;

/** Items of one partition, newest first, with their resume keys. */
export interface PartitionRead {
  items: Array<{ decision: StoredDecision; key: ResumeKey }>;
  /** Resume key after the last item read; absent when the partition has nothing more. */
  next?: ResumeKey;
}

/** A reviewer's or citizen's note kept on the decision. */
export interface ReviewRecord {
  action: 'confirm' | 'revoke' | 'resolve' | 'objection' | 'decline';
  by: string;
  /** For a citizen's answer: whether the beneficiary or one of their guardians gave it. */
  role?: 'subject' | 'guardian';
  at: string;
  reason?: string;
  resolution?: 'keep' | 'adjust' | 'revoke';
  from: DecisionStatus;
  to: DecisionStatus;
}

/** What one action changes; the store writes it, with the ledger entry, in one transaction. */
export interface TransitionPlan {
  /** Top-level decision attributes to set (`status` included). */
  set: Record<string, unknown>;
  /** Top-level decision attributes to remove (e.g. `reviewBucket` when it leaves the queue). */
  remove: string[];
  /** Appended to the decision's `reviews` list. */
  review: ReviewRecord;
  /** The ledger entry's fields; its chain position comes from the subject's profile head. */
  ledger: { kind: LedgerKind; actor: string; at: string; payload: LedgerPayload };
  /** Notifications written to the outbox in the same transaction. */
  outbox: OutboxRow[];
  /** A new granted amount for the profile's summary of the period (a resolution that adjusts). */
  grantedAmount?: number;
}

/** The outcome of a committed action. */
export interface TransitionResult {
  decision: StoredDecision;
  entry: LedgerEntry;
  outbox: OutboxRow[];
}

/** Reads and changes decisions for the review API. */
export interface ReviewStore {
  /**
   * Reads a partition newest first, after `start` (from the newest when absent), until at least
   * `want` matching items are read or the partition ends. Never a scan.
   */
  readPartition(
    p: Partition,
    filter: PartitionFilter,
    start: ResumeKey | undefined,
    want: number,
  ): Promise<PartitionRead>;
  getDecision(subject: string, policy: string, period: string): Promise<StoredDecision | undefined>;
  /** Decisions carrying a reference number (normally one). */
  decisionsByRef(ref: string): Promise<StoredDecision[]>;
  /** Every decision about one subject. */
  decisionsOfSubject(subject: string): Promise<StoredDecision[]>;
  /**
   * The reference numbers of the notices delivered to a person (distinct, in no set order): a
   * guardian's include those of the decisions about their wards.
   */
  refsNotifiedTo(recipient: string): Promise<string[]>;
  /** Ledger entries of a subject's chain that concern one decision (`payload.decision`), in order. */
  history(subject: string, decisionKey: string): Promise<LedgerEntry[]>;
  /**
   * Applies an action: reads the decision, asks `plan` what to change (plan throws an ApiError
   * when the current status does not allow it), then writes the decision update (conditional on
   * the status read), the ledger entry, the profile's chain head and version, and any outbox rows
   * in one transaction, retrying when another writer moved the profile first. Undefined when the
   * decision does not exist.
   */
  transition(
    subject: string,
    policy: string,
    period: string,
    plan: (current: StoredDecision) => TransitionPlan,
  ): Promise<TransitionResult | undefined>;
}
