/**
 * Which periods are decided, and when (benefits.md "Which periods are decided"). Periods are taken
 * in China Standard Time from the one clock.
 */
import { chinaMonth, chinaYear } from '../../clock.ts';
import { perYearFacts } from '../facts/catalogue.ts';
import type { FactValues, Period, SubjectKind } from '../types.ts';
import { insideWindow } from './evaluation.ts';
import type { Policy } from './model.ts';
import type { PolicySet } from './policy-set.ts';

/** A policy and one of its periods. */
export interface PolicyPeriod {
  policy: string;
  period: Period;
}

/** Years (`YYYY`, ascending) for which a subject has at least one per-year fact value. */
export function yearsWithFacts(kind: SubjectKind, facts: FactValues): string[] {
  const years = new Set<string>();
  for (const name of perYearFacts(kind)) {
    const v = facts[name];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    for (const [y, value] of Object.entries(v))
      if (/^\d{4}$/.test(y) && value !== undefined && value !== null) years.add(y);
  }
  return [...years].sort();
}

/** The current period of a policy at an instant: the China-time month or year containing it. */
function currentPeriod(policy: Policy, now: Date): Period {
  return policy.periodUnit === 'month' ? chinaMonth(now) : chinaYear(now);
}

/**
 * The periods an event about a subject re-decides, per policy of the subject's kind: month policies
 * the month containing `now`; person year policies (the childcare subsidy) the year containing
 * `now`; enterprise policies every year with at least one per-year fact. Only periods inside the
 * policy's effective window; in policy order, years ascending.
 */
export function triggerPeriods(
  set: PolicySet,
  kind: SubjectKind,
  facts: FactValues,
  now: Date,
): PolicyPeriod[] {
  const out: PolicyPeriod[] = [];
  for (const policy of set.policies) {
    if (policy.subjectKind !== kind) continue;
    const periods =
      kind === 'enterprise' && policy.periodUnit === 'year'
        ? yearsWithFacts(kind, facts)
        : [currentPeriod(policy, now)];
    for (const period of periods) if (insideWindow(policy, period)) out.push({ policy: policy.id, period });
  }
  return out;
}

/**
 * The periods open at `now` that the period-opening tick decides for every subject: the current
 * month of each month policy and the current year of each person year policy (enterprise years are
 * decided when their facts arrive). Only periods inside the effective window.
 */
export function periodsOpenedAt(set: PolicySet, now: Date): PolicyPeriod[] {
  const out: PolicyPeriod[] = [];
  for (const policy of set.policies) {
    if (policy.subjectKind === 'enterprise' && policy.periodUnit === 'year') continue;
    const period = currentPeriod(policy, now);
    if (insideWindow(policy, period)) out.push({ policy: policy.id, period });
  }
  return out;
}
