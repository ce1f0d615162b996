import { parseAgencyEvent } from '../../src/domain/events/parse.ts';
import { factUpdates, mergeFacts, toFactValues } from '../../src/domain/facts/merge.ts';
import { pseudonymiseEvent } from '../../src/domain/pseudonym.ts';
import { createReferenceEvaluator, loadPolicySet, triggerPeriods } from '../../src/domain/rules/index.ts';
import type { StoredFacts, SubjectKind } from '../../src/domain/types.ts';

/**
 * What an event stream's final facts give, computed without the pipeline: fold every accepted
 * event into per-subject facts, then evaluate each subject's trigger periods at `now`.
 * Keys `subject|policy|period`; values the amount when eligible, null when not.
 */
export async function expectedOutcomes(
  bodies: string[],
  now: string,
  keyHex: string,
): Promise<Map<string, number | null>> {
  const key = Buffer.from(keyHex, 'hex');
  const subjects = new Map<string, { kind: SubjectKind; facts: StoredFacts }>();
  for (const body of bodies) {
    const parsed = parseAgencyEvent(body, key);
    if (!parsed.ok) continue;
    const ev = pseudonymiseEvent(key, parsed.event);
    const s = subjects.get(ev.subject.id) ?? { kind: ev.subject.kind, facts: {} };
    s.facts = mergeFacts(s.facts, factUpdates(ev)).facts;
    subjects.set(ev.subject.id, s);
  }
  const set = loadPolicySet('rules');
  const evaluator = createReferenceEvaluator(set);
  const out = new Map<string, number | null>();
  for (const [subject, s] of subjects) {
    const values = toFactValues(s.facts);
    const targets = triggerPeriods(set, s.kind, values, new Date(now));
    for (const period of new Set(targets.map((t) => t.period))) {
      for (const r of await evaluator.evaluate({ subject, kind: s.kind, facts: values }, period)) {
        if (!targets.some((t) => t.policy === r.policy && t.period === r.period)) continue;
        out.set(`${subject}|${r.policy}|${r.period}`, r.outcome === 'eligible' ? r.amount : null);
      }
    }
  }
  return out;
}

/** The eligible part of {@link expectedOutcomes}: the grants the final facts call for. */
export async function expectedGrants(
  bodies: string[],
  now: string,
  keyHex: string,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [k, v] of await expectedOutcomes(bodies, now, keyHex)) if (v !== null) out.set(k, v);
  return out;
}

/**
 * The value a stored decision stands for now: the grant's amount, or, when later facts flagged it
 * (eligibility-changed), the amount the new facts give (null: no longer eligible).
 */
export function currentValue(d: Record<string, unknown>): number | null {
  const flag = d.flag as { outcome: string; amount: number | null } | undefined;
  if (!flag) return d.amount as number;
  return flag.outcome === 'eligible' ? flag.amount : null;
}
