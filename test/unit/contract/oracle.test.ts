/**
 * Contract test: the engine against an independent implementation of benefits.md (oracle.ts), on a
 * seeded boundary-heavy population of well-formed subjects and hand-made boundary cases
 * (population.ts), for periods on both sides of every effective window's edges. Per subject and
 * period both sides give the same rows (one per policy of the subject's kind and the period's unit)
 * with the same outcome, amount, and set of `missing-fact:*` / `outside-effective-period` reasons.
 * The other reasons name conditions, which the contract leaves to each implementation.
 */
import { describe, expect, it } from 'vitest';
import { createCompiledEvaluator } from '../../../src/domain/rules/compiled/index.ts';
import { createReferenceEvaluator, loadPolicySet } from '../../../src/domain/rules/index.ts';
import { type OracleRow, oracleEvaluate, POLICIES, type Subject } from './oracle.ts';
import { BOUNDARY_CASES, generatePopulation } from './population.ts';

// PB_CONTRACT_SEED / PB_CONTRACT_N run the same test on another or a larger population.
const SEED = Number(process.env.PB_CONTRACT_SEED ?? 20250301);
const N = Number(process.env.PB_CONTRACT_N ?? 20_000);
const REFERENCE_N = 1_000;
/** Each test takes a few seconds at most with the defaults; the margin is for larger PB_CONTRACT_N. */
const TIMEOUT = 300_000;
/** Years and months either side of 2022, 2023, 2025 (window starts), 2024-01 and 2027 (ends). */
const PERIODS = [
  '2021',
  '2022',
  '2023',
  '2024',
  '2025',
  '2026',
  '2027',
  '2028',
  '2023-12',
  '2024-01',
  '2024-02',
  '2024-12',
  '2025-01',
  '2025-03',
  '2026-02',
  '2027-02',
  '2028-02',
];
const REFERENCE_PERIODS = ['2022', '2023', '2025', '2027', '2028', '2023-12', '2024-01', '2025-03'];

const set = loadPolicySet('rules');
const compiled = createCompiledEvaluator(set);
const reference = createReferenceEvaluator(set);

/** Frozen, so that an evaluator cannot change the facts the oracle then reads. */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
const generated = deepFreeze(generatePopulation(SEED, N));
const population: Subject[] = deepFreeze([...BOUNDARY_CASES, ...generated]);

interface Row {
  subject: string;
  policy: string;
  period: string;
  outcome: string;
  amount: number | null;
  reasons: string[];
}

/** The reasons the contract fixes: the unknown facts, and being outside the window. */
const contractReasons = (reasons: readonly string[]): string[] =>
  reasons.filter((r) => r.startsWith('missing-fact:') || r === 'outside-effective-period').sort();

/** What the contract decides of a row. */
const decided = (r: Row) => ({
  subject: r.subject,
  period: r.period,
  outcome: r.outcome,
  amount: r.amount,
  reasons: contractReasons(r.reasons),
});

/** Rows of one subject and period, keyed by policy; `null` when a policy has two rows. */
function byPolicy(rows: readonly Row[]): Map<string, Row> | null {
  const m = new Map<string, Row>();
  for (const r of rows) {
    if (m.has(r.policy)) return null;
    m.set(r.policy, r);
  }
  return m;
}

interface Difference {
  period: string;
  input: Subject;
  engine: readonly Row[];
  oracle: readonly OracleRow[];
}

/** Accumulates the comparison of one engine's rows with the oracle's, subject by subject. */
class Comparison {
  subjects = 0;
  rows = 0;
  differing = 0;
  readonly first: Difference[] = [];

  add(input: Subject, period: string, engine: readonly Row[]): void {
    const oracle = oracleEvaluate(input, period);
    this.subjects += 1;
    this.rows += oracle.length;
    if (!this.agree(input, period, engine, oracle)) {
      this.differing += 1;
      if (this.first.length < 5) this.first.push({ period, input, engine, oracle });
    }
  }

  private agree(
    input: Subject,
    period: string,
    engine: readonly Row[],
    oracle: readonly OracleRow[],
  ): boolean {
    const e = byPolicy(engine);
    const o = byPolicy(oracle);
    if (e === null || o === null || e.size !== o.size) return false;
    for (const [policy, want] of o) {
      const got = e.get(policy);
      if (got === undefined) return false;
      const a = decided(got);
      const b = decided(want);
      if (
        a.subject !== input.subject ||
        a.period !== period ||
        a.outcome !== b.outcome ||
        a.amount !== b.amount ||
        a.reasons.join() !== b.reasons.join()
      )
        return false;
    }
    return true;
  }

  /** Fails with the first differing inputs, in full, and both sides' rows. */
  assess(): void {
    if (this.differing > 0) console.error(JSON.stringify(this.first, null, 1));
    expect({ differing: this.differing, first: this.first }).toEqual({ differing: 0, first: [] });
  }
}

describe('Contract: benefits.md (the engine against an independent oracle)', () => {
  for (const period of PERIODS) {
    it(`compiled evaluator agrees with the oracle on ${population.length} subjects for ${period}`, {
      timeout: TIMEOUT,
    }, () => {
      // Prepare
      const cmp = new Comparison();
      // Act
      for (const input of population) cmp.add(input, period, compiled.evaluateSync(input, period));
      // Assess
      cmp.assess();
      expect(cmp.subjects).toBe(population.length);
      expect(cmp.rows).toBeGreaterThan(population.length / 3);
    });
  }

  it(`reference evaluator agrees with the oracle on ${REFERENCE_N} subjects and the boundary cases for ${REFERENCE_PERIODS.join(', ')}`, {
    timeout: TIMEOUT,
  }, async () => {
    // Prepare
    const sample = [...BOUNDARY_CASES, ...generated.slice(0, REFERENCE_N)];
    const cmp = new Comparison();
    // Act
    for (const period of REFERENCE_PERIODS)
      for (const input of sample) cmp.add(input, period, await reference.evaluate(input, period));
    // Assess
    cmp.assess();
    expect(cmp.subjects).toBe(sample.length * REFERENCE_PERIODS.length);
  });

  it('the generated population reaches every outcome of every policy and the boundaries of each', {
    timeout: TIMEOUT,
  }, () => {
    // Prepare: counts per situation, over the generated subjects only (the boundary cases are fixed).
    const seen = new Map<string, number>();
    const count = (what: string, when: boolean): void => {
      if (when) seen.set(what, (seen.get(what) ?? 0) + 1);
    };
    // Act
    for (const period of PERIODS)
      for (const input of generated)
        for (const row of oracleEvaluate(input, period)) situations(input, period, row, count);
    for (const { facts } of generated)
      count(
        'a fact given as null',
        Object.values(facts).some(
          (v) => v === null || (typeof v === 'object' && Object.values(v).includes(null)),
        ),
      );
    // Assess
    const expected = [
      ...POLICIES.flatMap((p) => [
        `${p.id}: eligible`,
        `${p.id}: not eligible, conditions known`,
        `${p.id}: not eligible, a fact unknown`,
        `${p.id}: outside the window`,
      ]),
      ...BOUNDARY_SITUATIONS,
    ];
    const missing = expected.filter((s) => (seen.get(s) ?? 0) < 5);
    expect(missing).toEqual([]);
  });
});

const BOUNDARY_SITUATIONS = [
  'childcare-subsidy: part of a year (born, or turned three, in it)',
  'childcare-subsidy: the whole year',
  'childcare-subsidy: died in the birth month, that month still counted',
  'childcare-subsidy: died later, the months after not counted',
  'childcare-subsidy: third birthday in February of a leap-day birth',
  'elderly-allowance: 80 on start(M), 10000',
  'elderly-allowance: 90 on start(M), 50000',
  'elderly-allowance: 100 on start(M), 80000',
  'elderly-allowance: 80 the day after start(M), not eligible',
  'elderly-allowance: 90 the day after start(M), 10000',
  'elderly-allowance: 100 the day after start(M), 50000',
  'elderly-allowance: born on 29 February',
  'month policies: died on start(M), still alive',
  'month policies: died the day before start(M)',
  'disability subsidies: certificate expiring on start(M), valid',
  'disability subsidies: certificate expired the day before start(M)',
  'disability subsidies: no disabilityLevel, no certificate',
  'disability-nursing-subsidy: level 1, 30000',
  'disability-nursing-subsidy: level 2, 20000',
  'disability-nursing-subsidy: level 3, not eligible',
  'small-low-profit-cit: taxableIncome 300000000, eligible',
  'small-low-profit-cit: taxableIncome 300000001',
  'small-low-profit-cit: taxableIncome 0',
  'small-low-profit-cit: employeesAvg 300, eligible',
  'small-low-profit-cit: employeesAvg 301',
  'small-low-profit-cit: totalAssetsAvg 5000000000, eligible',
  'small-low-profit-cit: totalAssetsAvg 5000000001',
  'small-low-profit-cit: an amount rounded up to a whole fen',
  'six-taxes-two-fees: eligible as small-scale only',
  'six-taxes-two-fees: eligible as an individual business only',
  'six-taxes-two-fees: eligible as a small low-profit company only',
  'six-taxes-two-fees: an amount rounded up from half a fen',
  'six-taxes-two-fees: localTaxesDue 2^53 - 1, eligible',
  'job-stabilization-refund: 30 insured, layoffs at 20%, eligible',
  'job-stabilization-refund: 30 insured, layoffs just over 20%',
  'job-stabilization-refund: 31+ insured, layoffs at the 5.5% limit, eligible',
  'job-stabilization-refund: 31+ insured, layoffs just over 5.5%',
  'job-stabilization-refund: large, 30%',
  'job-stabilization-refund: not large, 60%',
  'job-stabilization-refund: an amount rounded up from half a fen',
  'job-stabilization-refund: uiPremiumsPaid 2^53 - 1, eligible',
  'job-stabilization-refund: enterpriseSize unknown, the rest eligible',
  'enterprise policies: a per-year fact present only for other years',
  'a fact given as null',
];

const own = (o: object, k: string): boolean => Object.hasOwn(o, k);
/** The value of a per-year fact for year `y`, or `undefined`. */
function yearValue(facts: Record<string, unknown>, name: string, y: string): unknown {
  const v = facts[name];
  return v !== null && typeof v === 'object' && own(v, y) ? (v as Record<string, unknown>)[y] : undefined;
}
const daysBefore = new Map<string, string>();
/** `YYYY-MM-DD` one day before `date`. */
function dayBefore(date: string): string {
  let d = daysBefore.get(date);
  if (d === undefined) {
    const t = new Date(`${date}T00:00:00Z`);
    t.setUTCDate(t.getUTCDate() - 1);
    d = t.toISOString().slice(0, 10);
    daysBefore.set(date, d);
  }
  return d;
}
/** `x × num / 100` is a whole fen and a half exactly. */
const halfFen = (x: unknown, num: number): boolean =>
  typeof x === 'number' && (BigInt(x) * BigInt(num)) % 100n === 50n;
/** `x × num / 100` (x >= 0) has a fraction of at least half a fen. */
const roundsUp = (x: unknown, num: number): boolean =>
  typeof x === 'number' && (BigInt(x) * BigInt(num)) % 100n >= 50n;

/** Counts the boundary situations one oracle row is in (`count(name, condition)`). */
function situations(
  input: Subject,
  period: string,
  row: OracleRow,
  count: (what: string, when: boolean) => void,
): void {
  const f = input.facts;
  const eligible = row.outcome === 'eligible';
  const missing = row.reasons.some((r) => r.startsWith('missing-fact:'));
  const outside = row.reasons.includes('outside-effective-period');
  count(`${row.policy}: eligible`, eligible);
  count(`${row.policy}: not eligible, conditions known`, !eligible && !missing && !outside);
  count(`${row.policy}: not eligible, a fact unknown`, missing);
  count(`${row.policy}: outside the window`, outside);
  const birth = typeof f['birthDate'] === 'string' ? f['birthDate'] : undefined;
  const death = typeof f['deathDate'] === 'string' ? f['deathDate'] : undefined;
  if (row.policy === 'childcare-subsidy' && eligible && birth !== undefined) {
    count('childcare-subsidy: part of a year (born, or turned three, in it)', row.amount !== 360000);
    count('childcare-subsidy: the whole year', row.amount === 360000);
    const birthMonth = birth.slice(0, 7);
    count(
      'childcare-subsidy: died in the birth month, that month still counted',
      death !== undefined && death.slice(0, 7) === birthMonth && death.slice(0, 4) === period,
    );
    count(
      'childcare-subsidy: died later, the months after not counted',
      death !== undefined && death.slice(0, 7) > birthMonth && death.slice(0, 4) === period,
    );
    count(
      'childcare-subsidy: third birthday in February of a leap-day birth',
      birth.endsWith('-02-29') && Number(birth.slice(0, 4)) + 3 === Number(period),
    );
  }
  if (period.length !== 7) {
    enterpriseSituations(f, period, row, count);
    return;
  }
  const start = `${period}-01`;
  const mmdd = start.slice(5);
  const years = birth === undefined ? -1 : Number(period.slice(0, 4)) - Number(birth.slice(0, 4));
  const inWindow = !outside;
  if (row.policy === 'elderly-allowance' && birth !== undefined) {
    const onStart = birth.slice(5) === mmdd;
    const dayAfter = birth.slice(5) === `${mmdd.slice(0, 3)}02`;
    count('elderly-allowance: 80 on start(M), 10000', onStart && years === 80 && row.amount === 10000);
    count('elderly-allowance: 90 on start(M), 50000', onStart && years === 90 && row.amount === 50000);
    count('elderly-allowance: 100 on start(M), 80000', onStart && years === 100 && row.amount === 80000);
    count(
      'elderly-allowance: 80 the day after start(M), not eligible',
      dayAfter && years === 80 && inWindow && !eligible,
    );
    count(
      'elderly-allowance: 90 the day after start(M), 10000',
      dayAfter && years === 90 && row.amount === 10000,
    );
    count(
      'elderly-allowance: 100 the day after start(M), 50000',
      dayAfter && years === 100 && row.amount === 50000,
    );
    count('elderly-allowance: born on 29 February', birth.endsWith('-02-29') && years === 80 && inWindow);
  }
  count('month policies: died on start(M), still alive', death === start && eligible);
  count('month policies: died the day before start(M)', death === dayBefore(start) && inWindow);
  if (row.policy.startsWith('disability-')) {
    const cert = f['disabilityCertValidUntil'];
    count('disability subsidies: certificate expiring on start(M), valid', cert === start && eligible);
    count(
      'disability subsidies: certificate expired the day before start(M)',
      cert === dayBefore(start) && inWindow,
    );
    count(
      'disability subsidies: no disabilityLevel, no certificate',
      f['disabilityLevel'] === undefined && inWindow && !eligible,
    );
  }
  if (row.policy === 'disability-nursing-subsidy') {
    count('disability-nursing-subsidy: level 1, 30000', row.amount === 30000);
    count('disability-nursing-subsidy: level 2, 20000', row.amount === 20000);
    count('disability-nursing-subsidy: level 3, not eligible', f['disabilityLevel'] === 3 && inWindow);
  }
}

function enterpriseSituations(
  f: Record<string, unknown>,
  period: string,
  row: OracleRow,
  count: (what: string, when: boolean) => void,
): void {
  if (row.reasons.includes('outside-effective-period')) return;
  const eligible = row.outcome === 'eligible';
  const v = (name: string): unknown => yearValue(f, name, period);
  count(
    'enterprise policies: a per-year fact present only for other years',
    row.reasons.some((r) => {
      const name = r.slice('missing-fact:'.length);
      const byYear = f[name];
      return (
        r.startsWith('missing-fact:') &&
        byYear !== null &&
        typeof byYear === 'object' &&
        !own(byYear, period) &&
        Object.keys(byYear).length > 0
      );
    }),
  );
  if (row.policy === 'small-low-profit-cit') {
    count(
      'small-low-profit-cit: taxableIncome 300000000, eligible',
      v('taxableIncome') === 300000000 && eligible,
    );
    count('small-low-profit-cit: taxableIncome 300000001', v('taxableIncome') === 300000001);
    count('small-low-profit-cit: taxableIncome 0', v('taxableIncome') === 0);
    count('small-low-profit-cit: employeesAvg 300, eligible', v('employeesAvg') === 300 && eligible);
    count('small-low-profit-cit: employeesAvg 301', v('employeesAvg') === 301);
    count(
      'small-low-profit-cit: totalAssetsAvg 5000000000, eligible',
      v('totalAssetsAvg') === 5000000000 && eligible,
    );
    count('small-low-profit-cit: totalAssetsAvg 5000000001', v('totalAssetsAvg') === 5000000001);
    count(
      'small-low-profit-cit: an amount rounded up to a whole fen',
      eligible && roundsUp(v('taxableIncome'), 20),
    );
  }
  if (row.policy === 'six-taxes-two-fees' && eligible) {
    const small = f['vatTaxpayerType'] === 'small-scale';
    const individual = f['enterpriseType'] === 'individual-business';
    count('six-taxes-two-fees: eligible as small-scale only', small && !individual);
    count('six-taxes-two-fees: eligible as an individual business only', individual && !small);
    count('six-taxes-two-fees: eligible as a small low-profit company only', !small && !individual);
    count('six-taxes-two-fees: an amount rounded up from half a fen', halfFen(v('localTaxesDue'), 50));
    count(
      'six-taxes-two-fees: localTaxesDue 2^53 - 1, eligible',
      v('localTaxesDue') === Number.MAX_SAFE_INTEGER,
    );
  }
  if (row.policy === 'job-stabilization-refund') {
    const hc = v('uiInsuredHeadcount');
    const lo = v('uiLayoffs');
    const size = v('enterpriseSize');
    const ok = typeof hc === 'number' && typeof lo === 'number';
    const atLimit = ok && (hc <= 30 ? lo * 100 === 20 * hc : lo === Math.floor((55 * hc) / 1000));
    const overLimit =
      ok && (hc <= 30 ? lo === Math.floor(hc / 5) + 1 : lo === Math.floor((55 * hc) / 1000) + 1);
    count('job-stabilization-refund: 30 insured, layoffs at 20%, eligible', hc === 30 && atLimit && eligible);
    count('job-stabilization-refund: 30 insured, layoffs just over 20%', hc === 30 && overLimit);
    count(
      'job-stabilization-refund: 31+ insured, layoffs at the 5.5% limit, eligible',
      ok && hc > 30 && atLimit && eligible,
    );
    count('job-stabilization-refund: 31+ insured, layoffs just over 5.5%', ok && hc > 30 && overLimit);
    count('job-stabilization-refund: large, 30%', eligible && size === 'large');
    count('job-stabilization-refund: not large, 60%', eligible && size !== 'large');
    count(
      'job-stabilization-refund: an amount rounded up from half a fen',
      eligible && halfFen(v('uiPremiumsPaid'), size === 'large' ? 30 : 60),
    );
    count(
      'job-stabilization-refund: uiPremiumsPaid 2^53 - 1, eligible',
      eligible && v('uiPremiumsPaid') === Number.MAX_SAFE_INTEGER,
    );
    count(
      'job-stabilization-refund: enterpriseSize unknown, the rest eligible',
      row.reasons.join() === 'missing-fact:enterpriseSize',
    );
  }
}
