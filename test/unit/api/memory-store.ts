/**
 * An in-memory ReviewStore for the API's unit tests: the same contract as the DynamoDB adapter
 * (index partitions newest first, resume keys, one atomic transition with a chained ledger entry).
 */
import type { Decision, OutboxRow } from '../../../src/domain/engine/model.ts';
import { decisionKey } from '../../../src/domain/engine/model.ts';
import { type ChainHead, type LedgerEntry, nextEntry } from '../../../src/domain/ledger/index.ts';
import { referenceNumber } from '../../../src/domain/notifications/index.ts';
import type {
  Partition,
  PartitionFilter,
  PartitionRead,
  ResumeKey,
  ReviewStore,
  StoredDecision,
  TransitionPlan,
  TransitionResult,
} from '../../../src/api/ports.ts';

type Item = Decision & { reviewBucket?: string; reviews?: unknown[] } & Record<string, unknown>;

const INDEX_PK: Record<Partition['index'], (d: Item) => string | undefined> = {
  byPolicyPeriod: (d) => `${d.policy}#${d.period}`,
  byStatus: (d) => d.status,
  byPolicy: (d) => d.policy,
  reviewQueue: (d) => d.reviewBucket,
};

const keyOf = (d: Item) => `${d.subject}|${decisionKey(d.policy, d.period)}`;

/** Newest first; ties by table key, descending (any fixed order works for the contract). */
const order = (a: Item, b: Item) =>
  a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : keyOf(a) < keyOf(b) ? 1 : -1;

export class MemoryReviewStore implements ReviewStore {
  readonly decisions = new Map<string, Item>();
  readonly ledger = new Map<string, LedgerEntry[]>();
  readonly heads = new Map<string, { head?: ChainHead; version: number }>();
  readonly outbox: OutboxRow[] = [];
  /** Delivered notices: recipient -> references, as the notify function records them. */
  readonly delivered = new Map<string, string[]>();
  /** Calls of `readPartition`, to show which indexes a route used. */
  readonly reads: Partition[] = [];
  /** Runs before a transition's write: lets a test move the decision under the API's feet. */
  beforeWrite?: () => void;

  /** Stores a decision as the engine would (review bucket when it has a review reason). */
  put(d: Decision): void {
    const item: Item = { ...d, ...(d.reviewReason ? { reviewBucket: 'review' } : {}) } as Item;
    this.decisions.set(keyOf(item), item);
    if (!this.heads.has(d.subject)) this.heads.set(d.subject, { version: 1 });
  }

  /** Records a delivered notice, as the notify function does once it has sent one. */
  deliver(recipient: string, ref: string): void {
    this.delivered.set(recipient, [...(this.delivered.get(recipient) ?? []), ref]);
  }

  private view(item: Item): StoredDecision {
    const { reviewBucket, ...rest } = item;
    return { ...(structuredClone(rest) as unknown as Decision), inReviewQueue: reviewBucket === 'review' };
  }

  async readPartition(
    p: Partition,
    filter: PartitionFilter,
    start: ResumeKey | undefined,
    want: number,
  ): Promise<PartitionRead> {
    this.reads.push(p);
    const all = [...this.decisions.values()].filter((d) => INDEX_PK[p.index](d) === p.value).sort(order);
    let from = 0;
    if (start) {
      const i = all.findIndex((d) => keyOf(d) === `${start.pk}|${start.sk}`);
      from = i + 1;
    }
    const out: PartitionRead = { items: [] };
    // Read in pages of `want` like DynamoDB's Limit, filtering after the read.
    let at = from;
    while (at < all.length && out.items.length < want) {
      const page = all.slice(at, at + Math.max(want, 1));
      at += page.length;
      for (const d of page) {
        if (filter.from && d.createdAt < filter.from) continue;
        if (filter.to && d.createdAt > filter.to) continue;
        if (filter.status && d.status !== filter.status) continue;
        if (filter.period && d.period !== filter.period) continue;
        out.items.push({
          decision: this.view(d),
          key: { pk: d.subject, sk: decisionKey(d.policy, d.period) },
        });
      }
    }
    if (at < all.length) {
      const last = all[at - 1]!;
      out.next = { pk: last.subject, sk: decisionKey(last.policy, last.period) };
    }
    return out;
  }

  async getDecision(subject: string, policy: string, period: string): Promise<StoredDecision | undefined> {
    const d = this.decisions.get(`${subject}|${decisionKey(policy, period)}`);
    return d ? this.view(d) : undefined;
  }

  async decisionsByRef(ref: string): Promise<StoredDecision[]> {
    return [...this.decisions.values()].filter((d) => d.ref === ref).map((d) => this.view(d));
  }

  async decisionsOfSubject(subject: string): Promise<StoredDecision[]> {
    return [...this.decisions.values()].filter((d) => d.subject === subject).map((d) => this.view(d));
  }

  async refsNotifiedTo(recipient: string): Promise<string[]> {
    return [...new Set(this.delivered.get(recipient) ?? [])];
  }

  async history(subject: string, key: string): Promise<LedgerEntry[]> {
    return (this.ledger.get(subject) ?? []).filter((e) => e.payload.decision === key);
  }

  async transition(
    subject: string,
    policy: string,
    period: string,
    plan: (current: StoredDecision) => TransitionPlan,
  ): Promise<TransitionResult | undefined> {
    const k = `${subject}|${decisionKey(policy, period)}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = this.decisions.get(k);
      if (!item) return undefined;
      const seenStatus = item.status;
      const change = plan(this.view(item));
      const profile = this.heads.get(subject) ?? { version: 1 };
      const seenVersion = profile.version;
      const entry = nextEntry(profile.head, { chain: subject, ...change.ledger });
      this.beforeWrite?.();
      // The same conditions as the DynamoDB transaction: status and profile version unchanged.
      const now = this.decisions.get(k)!;
      if (now.status !== seenStatus || (this.heads.get(subject)?.version ?? 1) !== seenVersion) continue;
      const next: Item = { ...now, ...structuredClone(change.set) } as Item;
      for (const attr of change.remove) delete next[attr];
      next.reviews = [...(now.reviews ?? []), change.review];
      this.decisions.set(k, next);
      this.ledger.set(subject, [...(this.ledger.get(subject) ?? []), entry]);
      this.heads.set(subject, { head: { seq: entry.seq, hash: entry.hash }, version: seenVersion + 1 });
      this.outbox.push(...change.outbox);
      return { decision: this.view(next), entry, outbox: change.outbox };
    }
    throw new Error('gave up after concurrent-update conflicts');
  }
}

let serial = 0;

/** A decision with sensible defaults; override what a test cares about. */
export function decision(over: Partial<Decision> = {}): Decision {
  serial++;
  const subject = over.subject ?? `ps_${serial.toString(16).padStart(32, '0')}`;
  const policy = over.policy ?? 'elderly-allowance';
  const period = over.period ?? '2025-03';
  return {
    subject,
    kind: 'person',
    policy: 'elderly-allowance',
    period: '2025-03',
    status: 'granted',
    amount: 10000,
    ruleVersion: '1.0.0',
    ruleSetHash: 'a'.repeat(64),
    reasons: [],
    explanation: {
      conditions: [
        {
          result: true,
          at: '$.conditions.all[0]',
          fact: 'ageOnPeriodStart',
          name: 'age-below-80',
          threshold: { value: 80 },
          sensitivity: 'restricted',
          operator: 'greaterThanInclusive',
        },
      ],
    },
    provenance: [
      {
        fact: 'birthDate',
        eventId: 'ps-2024-000107',
        source: 'public-security',
        occurredAt: '2024-12-01T08:00:00+08:00',
      },
    ],
    eventIds: ['ps-2024-000107'],
    ref: referenceNumber({ subject, policy, period }),
    recipients: [subject],
    createdAt: '2025-03-20T04:00:00.000Z',
    updatedAt: '2025-03-20T04:00:00.000Z',
    ...over,
  };
}
