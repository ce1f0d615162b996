import type { LedgerEntry } from '../ledger/index.ts';
import type { Decision, EligibilityFlag, OutboxRow, Profile } from './model.ts';

/** Receipt of an accepted event: the same id with another body is an id conflict. */
export interface EventReceipt {
  eventId: string;
  bodyHash: string;
  subject: string;
  source: string;
  receivedAt: string;
}

/** Everything one change to a subject writes, atomically (one DynamoDB transaction in AWS). */
export interface SubjectCommit {
  profile: Profile;
  /** Version the profile had when read; 0 when it did not exist. */
  expectedVersion: number;
  /** False when nothing of the profile changed: the profile is not written. */
  profileChanged: boolean;
  newDecisions: Decision[];
  flags: Array<{ key: string; flag: EligibilityFlag }>;
  ledger: LedgerEntry[];
  outbox: OutboxRow[];
}

export type CommitResult = { ok: true } | { ok: false; reason: 'version-conflict' };

/**
 * What keeping an event's receipt found: the id was new, or known with the same body (a
 * redelivery), or known with another body (an id conflict).
 */
export type ReceiptResult = 'new' | 'known' | { conflict: string };

/** What one read of many subjects returns: their profiles and the receipts of events already accepted. */
export interface ManyRead {
  profiles: Map<string, Profile>;
  /** Body hash of each event id found among the asked ones. */
  receipts: Map<string, string>;
  /** Subjects the store could not read this time (throttled keys): not known to be absent. */
  unread?: Set<string>;
}

/** Profiles, decisions, ledger and outbox of subjects. */
export interface SubjectStore {
  getProfile(subject: string): Promise<Profile | undefined>;
  /**
   * Reads many profiles (consistently) and event receipts at once: one request per batch of
   * records instead of one per record. A receipt not found may still exist (receipts may be read
   * eventually consistent); a receipt found exists.
   */
  getMany(subjects: string[], eventIds: string[], signal?: AbortSignal): Promise<ManyRead>;
  /**
   * Keeps the receipt of an accepted event, unless its id is known. Written before the event's
   * facts: a crash in between leaves a known receipt, and the redelivery merges again (merging an
   * event twice changes nothing).
   */
  keepReceipt(receipt: EventReceipt): Promise<ReceiptResult>;
  /**
   * Writes a change: one conditional put of a profile alone, else one transaction. With `signal`,
   * an abort stops the write's further attempts (it rejects; what was sent may still be applied).
   */
  commit(change: SubjectCommit, signal?: AbortSignal): Promise<CommitResult>;
  /** Outbox rows of a subject not relayed yet (after a crash between commit and relay). */
  pendingOutbox(subject: string): Promise<OutboxRow[]>;
}

/** Hands outbox rows to the notification path and removes them from the outbox. */
export interface OutboxRelay {
  relay(rows: OutboxRow[]): Promise<void>;
}

/** A rejected event, kept with its reason. The raw body is sealed, never stored in clear. */
export interface Rejection {
  /** Stable id of the delivery (same on redelivery), so a rejection is kept once. */
  deliveryKey: string;
  eventId: string | null;
  reason: string;
  receivedAt: string;
  /** Line of the input file, when the event came from one. */
  line?: number;
  sealedBody: string;
  /** The body with identity numbers replaced by pseudonyms, cut to a readable length. */
  preview: string;
}

/** Where rejected events are kept for operators to list and replay. */
export interface Quarantine {
  keep(rejection: Rejection): Promise<void>;
}
