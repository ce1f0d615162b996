import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { parseAgencyEvent } from '../events/parse.ts';
import { factUpdates, mergeFacts, toFactValues } from '../facts/merge.ts';
import { nextEntry, type LedgerEntry } from '../ledger/index.ts';
import { recipientsFor, referenceNumber } from '../notifications/index.ts';
import { pseudonymiseEvent } from '../pseudonym.ts';
import type { Evaluation, Evaluator, PolicySet } from '../rules/index.ts';
import { triggerPeriods } from '../rules/index.ts';
import { redactEventId, scrubIdentifiers, seal } from '../sealed.ts';
import type { StoredFacts, SubjectKind } from '../types.ts';
import { type Decision, decisionKey, type Profile } from './model.ts';
import { BatchStore } from './batch-store.ts';
import { type Budget, settleWithin, startBudget, unfinished, unstarted } from './budget.ts';
import type { EventReceipt, OutboxRelay, Quarantine, SubjectCommit, SubjectStore } from './ports.ts';

/** What the engine needs; adapters provide the ports. */
export interface EngineDeps {
  store: SubjectStore;
  quarantine: Quarantine;
  relay: OutboxRelay;
  policies: PolicySet;
  evaluator: Evaluator;
  clock: Clock;
  pseudonymKey: Buffer;
  reviewAmountThreshold: number;
  /** Observes what the engine did (logs, console output of `npm start`). */
  observe?: (e: EngineObservation) => void;
}

/** Something worth telling an operator about. */
export type EngineObservation =
  | { type: 'granted'; decision: Decision }
  | { type: 'flagged'; subject: string; key: string; outcome: string; amount: number | null }
  | { type: 'rejected'; eventId: string | null; reason: string }
  | { type: 'conflict-retry'; subject: string; attempt: number }
  | { type: 'backfill-segment'; segment: number; subjects: number; grants: number };

export type IngestOutcome =
  /** First delivery of the event; `factsChanged` false when its facts were known already. */
  | { status: 'accepted'; subject: string; factsChanged: boolean }
  /** The event was delivered before (its facts may still have been merged now, after a crash). */
  | { status: 'duplicate'; subject: string; factsChanged: boolean }
  | { status: 'rejected'; reason: string; eventId: string | null };

/** Delivery details the queue gives us. */
export interface DeliveryMeta {
  /** Stable across redeliveries (the SQS message id). */
  deliveryKey: string;
  line?: number;
}

const MAX_ATTEMPTS = 12;

/**
 * Takes one raw agency event: validates it (rejections are kept, never lost), pseudonymises it,
 * keeps its receipt and merges its facts into the subject's profile. Concurrent events for one subject retry on a version conflict. The caller then asks
 * for the subject's evaluation ({@link reevaluateSubject}) through the evaluations queue, so an
 * evaluation reads the facts after every event delivered with it: grants follow the final facts
 * whatever order the events came in.
 */
export async function ingestRaw(deps: EngineDeps, raw: string, meta: DeliveryMeta): Promise<IngestOutcome> {
  const prepared = prepareEvent(deps, raw, meta);
  return 'rejection' in prepared ? prepared.rejection() : mergeEvent(deps, prepared);
}

/**
 * Ingests a batch of raw events together: parses them all, reads every subject's profile and every
 * event's receipt with one store request, then merges each subject's events in turn (subjects in
 * parallel). Returns one outcome per raw event, in order; an infrastructure failure of one event is
 * its outcome (an Error) and does not stop the others. With `budgetMs`, it returns when that time
 * has passed even if some events are not done: their outcome is a {@link BudgetExceeded}, and an
 * event that had not started by then is not started at all.
 */
export async function ingestBatch(
  deps: EngineDeps,
  items: Array<{ raw: string; meta: DeliveryMeta }>,
  opts: { budgetMs?: number } = {},
): Promise<Array<IngestOutcome | Error>> {
  const budget = startBudget(opts.budgetMs);
  const prepared = items.map((i) => prepareEvent(deps, i.raw, i.meta));
  const accepted = prepared.filter((p): p is PreparedEvent => !('rejection' in p));
  const store = await BatchStore.read(
    deps.store,
    accepted.map((p) => p.subject),
    accepted.map((p) => p.receipt.eventId),
  );
  const batchDeps = { ...deps, store };
  const out: Array<IngestOutcome | Error> = new Array(items.length);
  // An event waits for the events before it in the batch about the same subject (merged in turn)
  // and for those with the same id (about any subject): of two bodies under one id, the first in
  // the batch is the one kept and the later one the conflict, whatever the timing.
  const chains = new Map<string, Promise<void>>();
  const runs: Promise<void>[] = [];
  // Ids whose earlier event in this batch failed: the later ones fail with it and are retried after
  // it, so the earlier stays the one kept.
  const failedIds = new Set<string>();
  // Events whose work began (the others, past the budget, were not started at all).
  const begun = new Set<number>();
  prepared.forEach((p, i) => {
    const keys = 'rejection' in p ? [`#${i}`] : [`s:${p.subject}`, `e:${p.receipt.eventId}`];
    const run = Promise.all(keys.map((k) => chains.get(k))).then(async () => {
      if (budget.expired) {
        out[i] = unstarted();
        return;
      }
      begun.add(i);
      try {
        if ('rejection' in p) out[i] = await p.rejection();
        else if (failedIds.has(p.receipt.eventId)) {
          out[i] = new Error(
            `event ${p.receipt.eventId} waits for the failed event of the same id before it in this batch`,
          );
        } else out[i] = await mergeEvent(batchDeps, p, budget);
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
      if (out[i] instanceof Error && !('rejection' in p)) failedIds.add(p.receipt.eventId);
    });
    for (const k of keys) chains.set(k, run);
    runs.push(run);
  });
  await settleWithin(runs, budget);
  // Past the budget, events still running go on in the background (their writes are as safe as
  // a crash's: the redelivery finds the receipt and merges again); their outcome is decided now.
  return Array.from(out, (o, i) => o ?? (begun.has(i) ? unfinished() : unstarted()));
}

/** An event that passed validation, pseudonymised, ready to merge. */
interface PreparedEvent {
  subject: string;
  kind: SubjectKind;
  receipt: EventReceipt;
  updates: ReturnType<typeof factUpdates>;
  raw: string;
  meta: DeliveryMeta;
}

/** Validates and pseudonymises one raw event; a rejection is kept when `rejection` is called. */
function prepareEvent(
  deps: EngineDeps,
  raw: string,
  meta: DeliveryMeta,
): PreparedEvent | { rejection: () => Promise<IngestOutcome> } {
  // The body hash is keyed: an unkeyed hash of a body holding an identity number could be brute-forced.
  const parsed = parseAgencyEvent(raw, deps.pseudonymKey);
  if (!parsed.ok) return { rejection: () => reject(deps, raw, meta, parsed.id, parsed.reason) };
  const pseudonymous = pseudonymiseEvent(deps.pseudonymKey, parsed.event);
  // An agency may build event ids from identity numbers; they are stored, so they are redacted too.
  const event = { ...pseudonymous, id: redactEventId(pseudonymous.id, deps.pseudonymKey) };
  return {
    subject: event.subject.id,
    kind: event.subject.kind,
    receipt: {
      eventId: event.id,
      bodyHash: parsed.bodyHash,
      subject: event.subject.id,
      source: event.source,
      receivedAt: deps.clock.now().toISOString(),
    },
    updates: factUpdates(event),
    raw,
    meta,
  };
}

/**
 * Merges a prepared event into its subject's profile. Its receipt is kept first: a crash before the
 * profile is written leaves a known receipt, and the redelivery merges again, which is harmless
 * (merging an event twice changes nothing). A known id with another body is an id conflict.
 */
async function mergeEvent(deps: EngineDeps, p: PreparedEvent, budget?: Budget): Promise<IngestOutcome> {
  const { subject, receipt } = p;
  const kept = await deps.store.keepReceipt(receipt);
  if (typeof kept !== 'string') {
    return reject(
      deps,
      p.raw,
      p.meta,
      receipt.eventId,
      `id-conflict: event ${receipt.eventId} was already accepted with another body`,
    );
  }
  const status = kept === 'new' ? 'accepted' : 'duplicate';
  // After a refused put, the facts may be there because that very put was applied and only its
  // answer was lost (the SDK's retry of it is then refused): count them as changed by this event.
  let tried = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // Past its batch's budget the event stops here: its outcome was already reported.
    if (budget?.expired) throw unfinished();
    const current = (await deps.store.getProfile(subject)) ?? emptyProfile(subject, p.kind);
    const merged = mergeFacts(current.facts, p.updates);
    if (!merged.changed && current.version > 0) return { status, subject, factsChanged: tried };
    if (budget?.expired) throw unfinished();
    tried = true;
    const result = await deps.store.commit(
      {
        profile: { ...current, facts: merged.facts, version: current.version + 1 },
        expectedVersion: current.version,
        profileChanged: true,
        newDecisions: [],
        flags: [],
        ledger: [],
        outbox: [],
      },
      budget?.signal,
    );
    if (result.ok) return { status, subject, factsChanged: true };
    deps.observe?.({ type: 'conflict-retry', subject, attempt });
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * attempt)));
  }
  throw new Error(`subject ${subject}: gave up after ${MAX_ATTEMPTS} concurrent-update conflicts`);
}

/**
 * Evaluates a stored subject for its trigger periods (after its facts changed), or for chosen
 * periods or one policy (period opening, policy publication), and commits what is new: grants with
 * their ledger entries and outbox rows, or eligibility-changed flags. Returns the number of new
 * grants. With `relayPending` (a redelivered request) it first relays outbox rows that a crashed
 * earlier run committed but did not relay.
 */
export async function reevaluateSubject(
  deps: EngineDeps,
  subject: string,
  only?: { policy?: string; periods?: Array<{ policy: string; period: string }> },
  opts: { relayPending?: boolean; budget?: Budget } = {},
): Promise<number> {
  const { budget } = opts;
  if (opts.relayPending) await deps.relay.relay(await deps.store.pendingOutbox(subject));
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // Past its batch's budget the subject stops here: its outcome was already reported.
    if (budget?.expired) throw unfinished();
    const current = await deps.store.getProfile(subject);
    if (!current) return 0;
    const { change, observations } = await decide(deps, current, only);
    if (change.newDecisions.length === 0 && change.flags.length === 0) return 0;
    if (budget?.expired) throw unfinished();
    const result = await deps.store.commit(change, budget?.signal);
    if (result.ok) {
      for (const o of observations) deps.observe?.(o);
      await deps.relay.relay(change.outbox);
      return change.newDecisions.length;
    }
    deps.observe?.({ type: 'conflict-retry', subject, attempt });
  }
  throw new Error(`subject ${subject}: gave up after ${MAX_ATTEMPTS} concurrent-update conflicts`);
}

/**
 * Evaluates many subjects (an evaluations batch) with their profiles read in one store request.
 * Returns, per subject in order, its number of new grants or the Error that stopped it; with
 * `budgetMs`, a subject not done when that time has passed is a {@link BudgetExceeded}.
 */
export async function reevaluateSubjects(
  deps: EngineDeps,
  subjects: Array<{ subject: string; relayPending?: boolean }>,
  opts: { budgetMs?: number } = {},
): Promise<Array<number | Error>> {
  const budget = startBudget(opts.budgetMs);
  const store = await BatchStore.read(
    deps.store,
    subjects.map((s) => s.subject),
    [],
  );
  const batchDeps = { ...deps, store };
  const out: Array<number | Error | undefined> = new Array(subjects.length);
  const runs = subjects.map((s, i) =>
    reevaluateSubject(batchDeps, s.subject, undefined, {
      relayPending: s.relayPending ?? false,
      budget,
    }).then(
      (grants) => {
        out[i] = grants;
      },
      (e: unknown) => {
        out[i] = e instanceof Error ? e : new Error(String(e));
      },
    ),
  );
  await settleWithin(runs, budget);
  // A subject still running goes on in the background: a commit it makes is kept (and its
  // redelivered request finds the grants made), one it does not make is made on redelivery.
  return Array.from(out, (o) => o ?? unfinished());
}

function emptyProfile(subject: string, kind: SubjectKind): Profile {
  return { subject, kind, facts: {}, version: 0, decided: {} };
}

/** Deterministic sampling from the decision key: the same decision is always in or out. */
export function sampled(key: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const h = createHash('sha256').update(key).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < rate;
}

function provenanceOf(facts: StoredFacts, used: string[]): Decision['provenance'] {
  const out: Decision['provenance'] = [];
  for (const key of used) {
    const rec = facts[key];
    if (rec) out.push({ fact: key, eventId: rec.eventId, source: rec.source, occurredAt: rec.occurredAt });
  }
  return out;
}

/** Evaluates a profile's trigger periods and works out what to write: grants, flags, ledger, outbox. */
async function decide(
  deps: EngineDeps,
  profile: Profile,
  only?: { policy?: string; periods?: Array<{ policy: string; period: string }> },
): Promise<{ change: SubjectCommit; observations: EngineObservation[] }> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const values = toFactValues(profile.facts);
  let targets = only?.periods ?? triggerPeriods(deps.policies, profile.kind, values, now);
  if (only?.policy) targets = targets.filter((t) => t.policy === only.policy);
  const byPeriod = new Map<string, Set<string>>();
  for (const t of targets) {
    if (!byPeriod.has(t.period)) byPeriod.set(t.period, new Set());
    byPeriod.get(t.period)!.add(t.policy);
  }
  const evaluations: Evaluation[] = [];
  for (const [period, policies] of byPeriod) {
    const results = await deps.evaluator.evaluate(
      { subject: profile.subject, kind: profile.kind, facts: values },
      period,
    );
    evaluations.push(...results.filter((r) => policies.has(r.policy)));
  }
  const decided = { ...profile.decided };
  const change: SubjectCommit = {
    profile: { ...profile, decided, version: profile.version + 1 },
    expectedVersion: profile.version,
    profileChanged: true,
    newDecisions: [],
    flags: [],
    ledger: [],
    outbox: [],
  };
  const observations: EngineObservation[] = [];
  let head = profile.ledger;
  const append = (kind: string, payload: Record<string, unknown>) => {
    const entry: LedgerEntry = nextEntry(head, {
      chain: profile.subject,
      at,
      kind,
      actor: 'engine',
      payload,
    });
    head = { seq: entry.seq, hash: entry.hash };
    change.ledger.push(entry);
  };
  const policyById = new Map(deps.policies.policies.map((p) => [p.id, p]));
  for (const ev of evaluations) {
    const key = decisionKey(ev.policy, ev.period);
    const policy = policyById.get(ev.policy)!;
    const provenance = provenanceOf(profile.facts, ev.factsUsed);
    const eventIds = [...new Set(provenance.map((p) => p.eventId))].sort();
    const prior = decided[key];
    if (!prior) {
      if (ev.outcome !== 'eligible' || ev.amount === null) continue;
      const ref = referenceNumber({ subject: profile.subject, policy: ev.policy, period: ev.period });
      const guardians = Array.isArray(values.guardians) ? (values.guardians as string[]) : undefined;
      const { recipients, note } = recipientsFor(policy.notification.recipients, profile.subject, guardians);
      const reviewReason =
        ev.amount > deps.reviewAmountThreshold
          ? 'amount-above-threshold'
          : sampled(key + profile.subject, policy.reviewSampleRate)
            ? 'sampled'
            : undefined;
      const decision: Decision = {
        subject: profile.subject,
        kind: profile.kind,
        policy: ev.policy,
        period: ev.period,
        status: 'granted',
        amount: ev.amount,
        ruleVersion: ev.ruleVersion,
        ruleSetHash: deps.policies.contentHash,
        reasons: ev.reasons,
        explanation: ev.explanation,
        provenance,
        eventIds,
        ref,
        recipients,
        ...(note ? { notifyNote: note } : {}),
        createdAt: at,
        updatedAt: at,
        ...(reviewReason ? { reviewReason } : {}),
      };
      change.newDecisions.push(decision);
      decided[key] = { ref, grantedAmount: ev.amount, lastOutcome: 'eligible', lastAmount: ev.amount };
      append('grant', {
        decision: key,
        ref,
        policy: ev.policy,
        ruleVersion: ev.ruleVersion,
        ruleSetHash: deps.policies.contentHash,
        period: ev.period,
        amount: ev.amount,
        eventIds,
      });
      for (const recipient of recipients) {
        change.outbox.push({
          subject: profile.subject,
          deliveryId: `${ref}:${recipient}:grant`,
          kind: 'grant',
          ref,
          policy: ev.policy,
          period: ev.period,
          amount: ev.amount,
          recipient,
          recipientRole: recipient === profile.subject ? 'subject' : 'guardian',
          createdAt: at,
        });
      }
      observations.push({ type: 'granted', decision });
      continue;
    }
    if (prior.closed || (prior.lastOutcome === ev.outcome && prior.lastAmount === ev.amount)) continue;
    // The facts moved under a granted period: never grant twice, never undo silently; flag it.
    const flag = { outcome: ev.outcome, amount: ev.amount, reasons: ev.reasons, at, eventIds };
    change.flags.push({ key, flag });
    decided[key] = { ...prior, lastOutcome: ev.outcome, lastAmount: ev.amount };
    append('eligibility-changed', {
      decision: key,
      ref: prior.ref,
      policy: ev.policy,
      ruleVersion: ev.ruleVersion,
      ruleSetHash: deps.policies.contentHash,
      period: ev.period,
      grantedAmount: prior.grantedAmount,
      outcome: ev.outcome,
      amount: ev.amount,
      reasons: ev.reasons,
      eventIds,
    });
    deps.observe?.({
      type: 'flagged',
      subject: profile.subject,
      key,
      outcome: ev.outcome,
      amount: ev.amount,
    });
  }
  if (head) change.profile.ledger = head;
  return { change, observations };
}

async function reject(
  deps: EngineDeps,
  raw: string,
  meta: DeliveryMeta,
  eventId: string | null,
  reason: string,
): Promise<IngestOutcome> {
  // Reasons and previews never carry a raw identity number; the body itself is sealed. The id is
  // redacted as an accepted event's is (an identity number in it becomes its pseudonym) and a
  // mistyped one is masked, so the rejection names the event as the agency sent it: other long
  // digit runs (timestamps, serial numbers) are the id itself.
  const safeReason = scrubIdentifiers(reason, deps.pseudonymKey);
  const safeId = eventId === null ? null : redactEventId(eventId, deps.pseudonymKey, true);
  await deps.quarantine.keep({
    deliveryKey: meta.deliveryKey,
    eventId: safeId,
    reason: safeReason,
    receivedAt: deps.clock.now().toISOString(),
    ...(meta.line !== undefined ? { line: meta.line } : {}),
    sealedBody: seal(deps.pseudonymKey, raw),
    preview: scrubIdentifiers(raw.slice(0, 4000), deps.pseudonymKey).slice(0, 500),
  });
  deps.observe?.({ type: 'rejected', eventId: safeId, reason: safeReason });
  return { status: 'rejected', reason: safeReason, eventId: safeId };
}
