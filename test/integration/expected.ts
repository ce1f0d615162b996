import { parseAgencyEvent } from '../../src/domain/events/parse.ts';
import { factUpdates, mergeFacts, toFactValues } from '../../src/domain/facts/merge.ts';
import { pseudonymiseEvent } from '../../src/domain/pseudonym.ts';
import { createReferenceEvaluator, loadPolicySet, triggerPeriods } from '../../src/domain/rules/index.ts';
import type { StoredFacts, SubjectKind } from '../../src/domain/types.ts';

/**
 * The grants an event stream should produce, computed without the pipeline: fold every accepted
 * event into per-subject facts, then evaluate each subject's trigger periods at `now`.
 * Keys `subject|policy|period`, values amounts.
 */
export async function expectedGrants(
  bodies: string[],
  now: string,
  keyHex: string,
): Promise<Map<string, number>> {
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
  const out = new Map<string, number>();
  for (const [subject, s] of subjects) {
    const values = toFactValues(s.facts);
    const targets = triggerPeriods(set, s.kind, values, new Date(now));
    for (const period of new Set(targets.map((t) => t.period))) {
      for (const r of await evaluator.evaluate({ subject, kind: s.kind, facts: values }, period)) {
        if (!targets.some((t) => t.policy === r.policy && t.period === r.period)) continue;
        if (r.outcome === 'eligible' && r.amount !== null)
          out.set(`${subject}|${r.policy}|${r.period}`, r.amount);
      }
    }
  }
  return out;
}
