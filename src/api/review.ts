/**
 * What each review action and citizen answer does to a decision: which statuses allow it, what it
 * sets, the ledger entry it appends and the notifications it sends. Pure: the store writes the
 * plan in one transaction.
 */
import type { DecisionStatus, OutboxRow } from '../domain/engine/model.ts';
import { decisionKey } from '../domain/engine/model.ts';
import { badRequest, conflict } from './http.ts';
import type { ReviewRecord, StoredDecision, TransitionPlan } from './ports.ts';

/** Who acts, and when; for a citizen's answer, whether the beneficiary or a guardian. */
export interface Actor {
  id: string;
  at: string;
  role?: 'subject' | 'guardian';
}

const ALREADY: Record<DecisionStatus, string> = {
  granted: 'is granted',
  'eligibility-changed': 'is flagged eligibility-changed',
  confirmed: 'is already confirmed',
  revoked: 'has been revoked',
  declined: 'was declined by the beneficiary',
  objected: 'has an objection waiting for review',
};

function refuse(d: StoredDecision, action: string, hint = ''): never {
  throw conflict(`cannot ${action}: this decision ${ALREADY[d.status]}${hint}`);
}

function base(
  d: StoredDecision,
  actor: Actor,
  review: Omit<ReviewRecord, 'by' | 'at' | 'from'>,
  kind: string,
  extra: Record<string, unknown> = {},
): Pick<TransitionPlan, 'review' | 'ledger'> {
  const record: ReviewRecord = {
    ...review,
    by: actor.id,
    ...(actor.role ? { role: actor.role } : {}),
    at: actor.at,
    from: d.status,
  };
  return {
    review: record,
    ledger: {
      kind,
      actor: actor.id,
      at: actor.at,
      payload: {
        decision: decisionKey(d.policy, d.period),
        ref: d.ref,
        policy: d.policy,
        period: d.period,
        from: d.status,
        to: review.to,
        ...(review.reason ? { reason: review.reason } : {}),
        ...(review.resolution ? { resolution: review.resolution } : {}),
        ...(actor.role ? { role: actor.role } : {}),
        ...extra,
      },
    },
  };
}

/**
 * One notice per recipient of a decision, of one kind; `key` makes each delivery id unique among
 * the decision's notices of that kind.
 */
function notices(
  d: StoredDecision,
  kind: 'revocation' | 'review-outcome',
  key: string,
  at: string,
  fields: Pick<OutboxRow, 'amount' | 'reason' | 'previousAmount'>,
): OutboxRow[] {
  return d.recipients.map((recipient) => ({
    subject: d.subject,
    deliveryId: `${d.ref}:${recipient}:${key}`,
    kind,
    ref: d.ref,
    policy: d.policy,
    period: d.period,
    recipient,
    recipientRole: recipient === d.subject ? 'subject' : 'guardian',
    createdAt: at,
    ...fields,
  }));
}

/** Revocation notices; the notify function renders and sends them. */
const revocationNotices = (d: StoredDecision, reason: string, at: string): OutboxRow[] =>
  notices(d, 'revocation', 'revocation', at, { amount: d.amount, reason });

/**
 * Review outcome notices: the decision stands (`previousAmount` absent) or its amount changed.
 * Each review of a decision gets its own delivery id (its place among the decision's reviews), so a
 * later review is told too, and a retried action the same.
 */
const outcomeNotices = (
  d: StoredDecision,
  amount: number | null,
  reason: string | undefined,
  at: string,
  previousAmount?: number | null,
): OutboxRow[] =>
  notices(d, 'review-outcome', `review-outcome:${d.reviews?.length ?? 0}`, at, {
    amount,
    ...(reason ? { reason } : {}),
    ...(previousAmount !== undefined ? { previousAmount } : {}),
  });

/**
 * Confirm: the reviewer has looked and the decision stands. A granted or objected decision becomes
 * `confirmed`; a declined one stays declined (the decline is acknowledged). Either way it leaves
 * the review queue. Whoever objected is told the outcome, with the reviewer's reason: turning an
 * objection down needs one, as revoking and resolving do.
 */
export function planConfirm(d: StoredDecision, actor: Actor, reason?: string): TransitionPlan {
  if (d.status === 'eligibility-changed') {
    refuse(d, 'confirm', ': resolve it instead (keep, adjust or revoke)');
  }
  if (!['granted', 'objected', 'declined'].includes(d.status)) refuse(d, 'confirm');
  if (d.status === 'objected' && !reason) {
    throw badRequest(
      'body.reason: is required to turn down an objection: say why the decision stands (the beneficiary is told)',
    );
  }
  if (d.status === 'declined' && !d.inReviewQueue) {
    throw conflict('cannot confirm: the decline was already acknowledged');
  }
  const to: DecisionStatus = d.status === 'declined' ? 'declined' : 'confirmed';
  return {
    set: { status: to, updatedAt: actor.at },
    remove: ['reviewBucket'],
    ...base(d, actor, { action: 'confirm', to, ...(reason ? { reason } : {}) }, 'review.confirm'),
    outbox: d.status === 'objected' ? outcomeNotices(d, d.amount, reason, actor.at) : [],
  };
}

/** Revoke: the grant is withdrawn, with a reason, and every recipient is told. */
export function planRevoke(d: StoredDecision, actor: Actor, reason: string): TransitionPlan {
  if (!['granted', 'confirmed', 'objected', 'eligibility-changed'].includes(d.status)) refuse(d, 'revoke');
  return {
    set: { status: 'revoked', updatedAt: actor.at },
    remove: ['reviewBucket', ...(d.flag ? ['flag'] : [])],
    ...base(d, actor, { action: 'revoke', to: 'revoked', reason }, 'review.revoke', { amount: d.amount }),
    outbox: revocationNotices(d, reason, actor.at),
  };
}

/**
 * Resolve an `eligibility-changed` flag: `keep` the grant as it is, `adjust` its amount to what the
 * new facts give, or `revoke` it (which notifies like a revocation). The recipients were told a
 * review was under way, so every resolution tells them its outcome.
 */
export function planResolve(
  d: StoredDecision,
  actor: Actor,
  resolution: 'keep' | 'adjust' | 'revoke',
  reason: string,
): TransitionPlan {
  if (d.status !== 'eligibility-changed') {
    refuse(d, 'resolve', ': only a decision flagged eligibility-changed can be resolved');
  }
  if (resolution === 'revoke') {
    return {
      set: { status: 'revoked', updatedAt: actor.at },
      remove: ['reviewBucket', 'flag'],
      ...base(d, actor, { action: 'resolve', resolution, to: 'revoked', reason }, 'review.resolve', {
        amount: d.amount,
      }),
      outbox: revocationNotices(d, reason, actor.at),
    };
  }
  if (resolution === 'keep') {
    return {
      set: { status: 'confirmed', updatedAt: actor.at },
      remove: ['reviewBucket', 'flag'],
      ...base(d, actor, { action: 'resolve', resolution, to: 'confirmed', reason }, 'review.resolve', {
        amount: d.amount,
      }),
      outbox: outcomeNotices(d, d.amount, reason, actor.at),
    };
  }
  const amount = d.flag?.outcome === 'eligible' ? d.flag.amount : null;
  if (amount === null || amount === undefined) {
    throw conflict('cannot adjust: the new facts give no amount (not eligible); resolve with keep or revoke');
  }
  return {
    set: { status: 'confirmed', amount, updatedAt: actor.at },
    remove: ['reviewBucket', 'flag'],
    ...base(d, actor, { action: 'resolve', resolution, to: 'confirmed', reason }, 'review.resolve', {
      previousAmount: d.amount,
      amount,
    }),
    outbox: outcomeNotices(d, amount, reason, actor.at, d.amount),
    grantedAmount: amount,
  };
}

/**
 * A beneficiary objects: the decision goes to the review queue as `objected`. A decision flagged
 * `eligibility-changed` is in the queue already and stays flagged: the objection is recorded with
 * it, and the reviewer still has to resolve the change (an objection must not turn a pending
 * change of amount into a plain confirmation).
 */
export function planObjection(d: StoredDecision, actor: Actor, reason: string): TransitionPlan {
  if (!['granted', 'confirmed', 'eligibility-changed'].includes(d.status)) refuse(d, 'object');
  if (d.status === 'eligibility-changed') {
    const since = d.flag?.at ?? '';
    if (
      d.reviews?.some((r) => r.action === 'objection' && r.from === 'eligibility-changed' && r.at >= since)
    ) {
      throw conflict('cannot object: an objection to this change is already waiting for review');
    }
    return {
      set: { updatedAt: actor.at },
      remove: [],
      ...base(d, actor, { action: 'objection', to: 'eligibility-changed', reason }, 'citizen.objection'),
      outbox: [],
    };
  }
  return {
    set: { status: 'objected', reviewReason: 'objected', reviewBucket: 'review', updatedAt: actor.at },
    remove: [],
    ...base(d, actor, { action: 'objection', to: 'objected', reason }, 'citizen.objection'),
    outbox: [],
  };
}

/** A beneficiary declines the benefit: `declined`, and a reviewer is asked to look. */
export function planDecline(d: StoredDecision, actor: Actor, reason: string): TransitionPlan {
  if (!['granted', 'confirmed', 'eligibility-changed', 'objected'].includes(d.status)) refuse(d, 'decline');
  return {
    set: { status: 'declined', reviewReason: 'declined', reviewBucket: 'review', updatedAt: actor.at },
    remove: [],
    ...base(d, actor, { action: 'decline', to: 'declined', reason }, 'citizen.decline'),
    outbox: [],
  };
}
