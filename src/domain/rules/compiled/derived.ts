/**
 * Compiled derived facts. Each derived fact of the registry (facts/derived.ts) becomes, for one
 * period and one set of resolved condition params, a closure from the subject's already-read base
 * facts to its value. The common ones have integer fast paths (no string building, no BigInt unless
 * a product could leave the safe-integer range); any other derived fact, or one whose inputs have
 * changed since this was written, runs the registry's own `compute`, so results never drift.
 */
import { readFact } from '../../facts/catalogue.ts';
import {
  aliveOn,
  CHILDCARE_AGE_LIMIT_YEARS,
  CHILDCARE_FIRST_MONTH,
  certValidOn,
  countedMonths,
  DEFAULT_LAYOFF_LIMITS,
  type DerivedFactDefinition,
  type LayoffLimits,
  layoffRateWithinLimit,
  type PeriodInfo,
  type Ratio,
} from '../../facts/derived.ts';
import { type Read, UNKNOWN } from './facts.ts';

/** Computes a derived value from the values of its inputs (in `def.inputs` order; absent = undefined). */
export type DerivedFn = (inputs: readonly unknown[], facts: Record<string, unknown>) => unknown;

const n2 = (s: string, i: number): number => (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
const year4 = (s: string): number => n2(s, 0) * 100 + n2(s, 2);
/** Months since year 0 of a `YYYY-MM…` text whose first seven characters are digits and a dash. */
const monthIndex = (s: string): number => year4(s) * 12 + n2(s, 5) - 1;

const FIRST_CHILDCARE_MONTH = monthIndex(CHILDCARE_FIRST_MONTH);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const sameInputs = (def: DerivedFactDefinition, want: readonly string[]): boolean =>
  def.inputs.length === want.length && def.inputs.every((x, i) => x === want[i]);

/**
 * Binds a derived fact to a period and resolved params. Inputs arrive validated (calendar dates,
 * safe integers), which the fast paths rely on; `undefined` stands for an absent optional input.
 */
export function bindDerived(
  def: DerivedFactDefinition,
  period: PeriodInfo,
  params: Record<string, unknown>,
): DerivedFn {
  const start = period.start;
  switch (def.name) {
    case 'ageOnPeriodStart':
      if (sameInputs(def, ['birthDate'])) {
        const dy = year4(start);
        const dm = n2(start, 5);
        const dd = n2(start, 8);
        return (v) => {
          const b = v[0] as string;
          const bm = n2(b, 5);
          const before = dm < bm || (dm === bm && dd < n2(b, 8));
          return dy - year4(b) - (before ? 1 : 0);
        };
      }
      break;
    case 'aliveOnPeriodStart':
      if (sameInputs(def, ['deathDate'])) return (v) => aliveOn(v[0] as string | undefined, start);
      break;
    case 'certValidOnPeriodStart':
      if (sameInputs(def, ['disabilityCertValidUntil']))
        return (v) => certValidOn(v[0] as string | undefined, start);
      break;
    case 'countedMonths':
      if (sameInputs(def, ['birthDate', 'deathDate'])) {
        const first = period.unit === 'month' ? monthIndex(period.text) : period.year * 12;
        const last = period.unit === 'month' ? first : first + 11;
        return (v) => {
          const birth = v[0] as string;
          const death = v[1] as string | undefined;
          const by = year4(birth);
          // The registry compares `YYYY-MM` texts; from birth year 9997 the third-birthday year has
          // five digits and text order stops being month order, so such dates take its own path.
          if (by + CHILDCARE_AGE_LIMIT_YEARS > 9999) return countedMonths(period, birth, death);
          const birthIdx = by * 12 + n2(birth, 5) - 1;
          const limitIdx = birthIdx + CHILDCARE_AGE_LIMIT_YEARS * 12;
          // Alive on the first of month m  <=>  the death month is m or later (a day is always >= 01).
          const deathIdx = death === undefined ? Number.POSITIVE_INFINITY : monthIndex(death);
          let n = 0;
          for (let m = first; m <= last; m++) {
            if (m < FIRST_CHILDCARE_MONTH || m < birthIdx || m >= limitIdx) continue;
            if (m === birthIdx || deathIdx >= m) n += 1;
          }
          return n;
        };
      }
      break;
    case 'layoffRateWithinLimit':
      if (sameInputs(def, ['uiLayoffs', 'uiInsuredHeadcount'])) {
        const limits: LayoffLimits = {
          smallHeadcountMax:
            (params.smallHeadcountMax as number | undefined) ?? DEFAULT_LAYOFF_LIMITS.smallHeadcountMax,
          small: (params.smallMaxRate as Ratio | undefined) ?? DEFAULT_LAYOFF_LIMITS.small,
          other: (params.maxRate as Ratio | undefined) ?? DEFAULT_LAYOFF_LIMITS.other,
        };
        const { smallHeadcountMax, small, other } = limits;
        return (v) => {
          const layoffs = v[0] as number;
          const headcount = v[1] as number;
          if (headcount <= 0) return false;
          const r = headcount <= smallHeadcountMax ? small : other;
          // Exact in doubles while both products stay safe integers; otherwise BigInt, as the registry.
          if (
            Math.abs(layoffs) * Math.abs(r.denominator) <= MAX_SAFE &&
            Math.abs(r.numerator) * Math.abs(headcount) <= MAX_SAFE &&
            Number.isSafeInteger(r.numerator) &&
            Number.isSafeInteger(r.denominator)
          ) {
            return layoffs * r.denominator <= r.numerator * headcount;
          }
          return layoffRateWithinLimit(layoffs, headcount, limits);
        };
      }
      break;
  }
  // Any other derived fact: the registry's computation, fed the same readings the reference gives it.
  return (_v, facts) => def.compute({ read: (f) => readFact(facts, f, period.year), period, params });
}

/** Wraps a base read for a derived input: UNKNOWN of an optional input becomes `undefined`. */
export const optional = (r: Read): unknown => (r === UNKNOWN ? undefined : r);
