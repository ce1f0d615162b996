import type { Fen, Outcome, Period, StoredFacts, SubjectKind } from '../types.ts';

/** Status of a decision over its life. */
export type DecisionStatus =
  | 'granted'
  | 'eligibility-changed'
  | 'confirmed'
  | 'revoked'
  | 'declined'
  | 'objected';

/** Head of a subject's ledger chain. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** What a subject's profile remembers of each decided period, so an event needs no extra reads. */
export interface DecidedSummary {
  ref: string;
  grantedAmount: Fen;
  /** Outcome and amount of the latest evaluation (differs from the grant once flagged). */
  lastOutcome: Outcome;
  lastAmount: Fen | null;
  /** Revoked or declined: later facts no longer flag the decision. */
  closed?: boolean;
}

/** A subject's profile: merged facts with provenance, decided periods and its ledger chain head. */
export interface Profile {
  subject: string;
  kind: SubjectKind;
  facts: StoredFacts;
  /** Optimistic-concurrency version; 0 for a subject not yet stored. */
  version: number;
  ledger?: ChainHead;
  decided: Record<string, DecidedSummary>;
}

/** A later evaluation that disagrees with a grant, waiting for a reviewer. */
export interface EligibilityFlag {
  outcome: Outcome;
  amount: Fen | null;
  reasons: string[];
  at: string;
  eventIds: string[];
}

/** One decision: a grant for (subject, policy, period), with everything a reviewer needs. */
export interface Decision {
  subject: string;
  kind: SubjectKind;
  policy: string;
  period: Period;
  status: DecisionStatus;
  amount: Fen;
  ruleVersion: string;
  ruleSetHash: string;
  reasons: string[];
  explanation: unknown;
  /** Events the decision rests on, with their sources and times. */
  provenance: Array<{ fact: string; eventId: string; source: string; occurredAt: string }>;
  eventIds: string[];
  ref: string;
  recipients: string[];
  notifyNote?: string;
  createdAt: string;
  updatedAt: string;
  /** Set when the decision should be looked at by a reviewer (sampled, flagged, large or objected). */
  reviewReason?: string;
  flag?: EligibilityFlag;
}

/** A notification waiting to be relayed: one per decision event and recipient. */
export interface OutboxRow {
  subject: string;
  deliveryId: string;
  kind: 'grant' | 'eligibility-changed' | 'revocation' | 'review-outcome';
  ref: string;
  policy: string;
  period: Period;
  amount: Fen | null;
  /** A review outcome that changed the amount: the amount before. */
  previousAmount?: Fen | null;
  recipient: string;
  recipientRole: 'subject' | 'guardian';
  reason?: string;
  createdAt: string;
}

/** Decision key within a subject: `<policy>#<period>`. */
export const decisionKey = (policy: string, period: Period): string => `${policy}#${period}`;
