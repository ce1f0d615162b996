/**
 * Derived facts: values the rules compare that are computed from base facts and the period being
 * decided (age on the first day of the period, counted months, …). Each is a pure function tested
 * at its boundaries; rule files name them like any other fact and never carry code.
 */
import type { Period, SubjectKind } from '../types.ts';
import { type FactReading, isCalendarDate, type Sensitivity } from './catalogue.ts';

// ---------------------------------------------------------------------------------------------
// Periods and dates

/** A parsed period: `YYYY` or `YYYY-MM`, with the first day of the period. */
export interface PeriodInfo {
  text: Period;
  unit: 'year' | 'month';
  year: number;
  /** 1..12 for a month period. */
  month?: number;
  /** `start(P)`: the first day of the period, `YYYY-MM-DD`. */
  start: string;
}

/** Parses `YYYY` or `YYYY-MM`; undefined when the text is neither. */
export function parsePeriod(text: string): PeriodInfo | undefined {
  const m = /^(\d{4})(?:-(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (year < 1000) return undefined;
  if (m[2] === undefined) return { text, unit: 'year', year, start: `${m[1]}-01-01` };
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return { text, unit: 'month', year, month, start: `${m[1]}-${m[2]}-01` };
}

/** The `YYYY-MM` months a period covers, in order. */
export function monthsOf(p: PeriodInfo): string[] {
  const y = String(p.year).padStart(4, '0');
  if (p.unit === 'month') return [p.text];
  return Array.from({ length: 12 }, (_, i) => `${y}-${String(i + 1).padStart(2, '0')}`);
}

function dateParts(d: string): [number, number, number] {
  return [Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10))];
}

/**
 * Age on a date per benefits.md: `D.year - B.year`, minus 1 when `(D.month, D.day) < (B.month, B.day)`.
 * A 29 February birthday is therefore reached on 1 March in common years.
 */
export function ageOn(birthDate: string, on: string): number {
  const [by, bm, bd] = dateParts(birthDate);
  const [dy, dm, dd] = dateParts(on);
  const before = dm < bm || (dm === bm && dd < bd);
  return dy - by - (before ? 1 : 0);
}

/** Alive on a date: no death date, or a death date on or after it (dying that day still counts). */
export function aliveOn(deathDate: string | undefined, on: string): boolean {
  return deathDate === undefined || deathDate >= on;
}

/** A certificate is valid on a date when it has no expiry or expires on or after that date. */
export function certValidOn(validUntil: string | undefined, on: string): boolean {
  return validUntil === undefined || validUntil >= on;
}

/** First month of the childcare subsidy scheme (from 1 January 2025). */
export const CHILDCARE_FIRST_MONTH = '2025-01';
/** The subsidy is paid while the child is under this many years. */
export const CHILDCARE_AGE_LIMIT_YEARS = 3;

/**
 * Months of a period that count for the childcare subsidy (benefits.md §1): month `m` counts when
 * `m >= 2025-01`, `m >= birthMonth`, `m < thirdBirthdayMonth`, and the child is alive on the first
 * day of `m` or `m` is the birth month. Works on `YYYY-MM` strings, which order like the months.
 */
export function countedMonths(period: PeriodInfo, birthDate: string, deathDate?: string): number {
  const birthMonth = birthDate.slice(0, 7);
  const limitYear = String(Number(birthDate.slice(0, 4)) + CHILDCARE_AGE_LIMIT_YEARS).padStart(4, '0');
  const thirdBirthdayMonth = `${limitYear}-${birthDate.slice(5, 7)}`;
  let n = 0;
  for (const m of monthsOf(period)) {
    if (m < CHILDCARE_FIRST_MONTH || m < birthMonth || m >= thirdBirthdayMonth) continue;
    if (m === birthMonth || aliveOn(deathDate, `${m}-01`)) n += 1;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Integer arithmetic (no floats anywhere money or rates are compared)

/** A rate written as an exact fraction. */
export interface Ratio {
  numerator: number;
  denominator: number;
}

/** True when `v` is a ratio of safe integers with a positive denominator. */
export function isRatio(v: unknown): v is Ratio {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  return (
    Object.keys(r).length === 2 &&
    Number.isSafeInteger(r.numerator) &&
    Number.isSafeInteger(r.denominator) &&
    (r.denominator as number) > 0
  );
}

/** Layoff limits of the job-stabilization refund (benefits.md §7). */
export interface LayoffLimits {
  /** Up to this insured headcount the `small` rate applies. */
  smallHeadcountMax: number;
  small: Ratio;
  other: Ratio;
}

/** The limits of MOHRSS/MOF 2023 No. 19: 20% up to 30 insured, 5.5% above. */
export const DEFAULT_LAYOFF_LIMITS: LayoffLimits = {
  smallHeadcountMax: 30,
  small: { numerator: 20, denominator: 100 },
  other: { numerator: 55, denominator: 1000 },
};

/**
 * Layoff rate `layoffs / headcount` at most the limit, compared exactly by cross-multiplying in
 * BigInt (`layoffs × 1000 <= 55 × headcount`). No insured headcount means no rate: false.
 */
export function layoffRateWithinLimit(
  layoffs: number,
  headcount: number,
  limits: LayoffLimits = DEFAULT_LAYOFF_LIMITS,
): boolean {
  if (headcount <= 0) return false;
  const r = headcount <= limits.smallHeadcountMax ? limits.small : limits.other;
  return BigInt(layoffs) * BigInt(r.denominator) <= BigInt(r.numerator) * BigInt(headcount);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * `amount × numerator / denominator` rounded half-up to a whole fen, exactly (BigInt): 1234567 × 20 /
 * 100 = 246913.4 → 246913; 3 × 50 / 100 = 1.5 → 2. Half-up means towards +∞ at exactly .5.
 */
export function percentHalfUp(amount: number, numerator: number, denominator: number): number {
  if (denominator <= 0) throw new RangeError('denominator must be positive');
  const n = BigInt(amount) * BigInt(numerator);
  const d = BigInt(denominator);
  const r = floorDiv(2n * n + d, 2n * d);
  const out = Number(r);
  if (!Number.isSafeInteger(out)) throw new RangeError('amount out of range');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The derived-fact registry the evaluators and the validator share

/** What a derived fact's computation may read. */
export interface DerivedInputs {
  read: (fact: string) => FactReading;
  period: PeriodInfo;
  /** Condition `params`, already resolved to values (parameter references replaced). */
  params: Record<string, unknown>;
}

/** A derived fact: name, inputs, sensitivity, and its pure computation. */
export interface DerivedFactDefinition {
  name: string;
  subjectKind: SubjectKind;
  sensitivity: Sensitivity;
  /** Base facts read; the derived value is unknown when a required one (no `absentMeans`) is. */
  inputs: readonly string[];
  /** Condition `params` it accepts and their value types (`integer`, `ratio`). */
  params?: Readonly<Record<string, 'integer' | 'ratio'>>;
  meaning: string;
  compute(x: DerivedInputs): unknown;
}

const str = (r: FactReading): string | undefined => (r.known ? (r.value as string) : undefined);
const num = (r: FactReading): number => r.value as number;

/** Every derived fact a rule may name (besides `eligibleFor:<policy>`, which the evaluator provides). */
export const DERIVED_FACTS: readonly DerivedFactDefinition[] = [
  {
    name: 'ageOnPeriodStart',
    subjectKind: 'person',
    sensitivity: 'restricted',
    inputs: ['birthDate'],
    meaning: 'age on the first day of the period',
    compute: ({ read, period }) => ageOn(str(read('birthDate'))!, period.start),
  },
  {
    name: 'aliveOnPeriodStart',
    subjectKind: 'person',
    sensitivity: 'restricted',
    inputs: ['deathDate'],
    meaning: 'alive on the first day of the period',
    compute: ({ read, period }) => aliveOn(str(read('deathDate')), period.start),
  },
  {
    name: 'countedMonths',
    subjectKind: 'person',
    sensitivity: 'restricted',
    inputs: ['birthDate', 'deathDate'],
    meaning: 'months of the period counted for the childcare subsidy',
    compute: ({ read, period }) => countedMonths(period, str(read('birthDate'))!, str(read('deathDate'))),
  },
  {
    name: 'certValidOnPeriodStart',
    subjectKind: 'person',
    sensitivity: 'internal',
    inputs: ['disabilityCertValidUntil'],
    meaning: 'disability certificate valid on the first day of the period',
    compute: ({ read, period }) => certValidOn(str(read('disabilityCertValidUntil')), period.start),
  },
  {
    name: 'layoffRateWithinLimit',
    subjectKind: 'enterprise',
    sensitivity: 'internal',
    inputs: ['uiLayoffs', 'uiInsuredHeadcount'],
    params: { smallHeadcountMax: 'integer', smallMaxRate: 'ratio', maxRate: 'ratio' },
    meaning: 'layoff rate of the year within the limit for the insured headcount',
    compute: ({ read, params }) => {
      const limits: LayoffLimits = {
        smallHeadcountMax:
          (params.smallHeadcountMax as number | undefined) ?? DEFAULT_LAYOFF_LIMITS.smallHeadcountMax,
        small: (params.smallMaxRate as Ratio | undefined) ?? DEFAULT_LAYOFF_LIMITS.small,
        other: (params.maxRate as Ratio | undefined) ?? DEFAULT_LAYOFF_LIMITS.other,
      };
      return layoffRateWithinLimit(num(read('uiLayoffs')), num(read('uiInsuredHeadcount')), limits);
    },
  },
];

const DERIVED_BY_NAME = new Map(DERIVED_FACTS.map((d) => [d.name, d]));

/** The definition of a derived fact, or undefined. */
export function derivedFact(name: string): DerivedFactDefinition | undefined {
  return DERIVED_BY_NAME.get(name);
}

/** Prefix of the derived fact "eligible for another policy in the same period". */
export const ELIGIBLE_FOR_PREFIX = 'eligibleFor:';

/** Re-exported so callers need one import for date checks. */
export { isCalendarDate };
