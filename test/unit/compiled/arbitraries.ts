/**
 * fast-check arbitraries of (period, facts) pairs for the differential test, biased to the places
 * where two evaluators could disagree: ages 79/80/89/90/99/100 on the first of the month, 29 February
 * births, deaths and certificate expiries on and around the period start, third birthdays, incomes
 * around 300000000 (and 0, negatives), 300/301 employees, assets around 5000000000, layoff rates at
 * 5.5% and 20% with 30/31 insured, half-fen amounts, values of the wrong type, and every fact
 * independently absent about 15% of the time.
 */
import fc from 'fast-check';
import { parsePeriod } from '../../../src/domain/facts/derived.ts';

/** One generated case: a period and the `facts` object of a `pb evaluate` input line. */
export interface FactCase {
  period: string;
  facts: Record<string, unknown>;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of a UTC date (years outside 1000..9999 do not occur here). */
const iso = (d: Date): string =>
  `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** A date shifted by whole years and days from `YYYY-MM-DD` (29 Feb + 1 year rolls to 1 Mar). */
function shift(date: string, years: number, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(2000, m - 1, d + days));
  t.setUTCFullYear(y - years + (t.getUTCFullYear() - 2000));
  return iso(t);
}

/** Replaces a value by something absent or of the wrong type, now and then. */
function maybe<T>(
  arb: fc.Arbitrary<T>,
  wrong: fc.Arbitrary<unknown> = fc.constant(null),
): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: arb, weight: 80 },
    { arbitrary: fc.constant(undefined), weight: 15 },
    { arbitrary: wrong, weight: 5 },
  );
}

/** Drops keys whose value is `undefined`: a missing key is an unknown fact. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

const MONTH_PERIODS = [
  '2023-12',
  '2024-01',
  '2024-02',
  '2024-03',
  '2024-12',
  '2025-01',
  '2025-02',
  '2025-03',
  '2025-12',
  '2026-01',
  '2027-12',
  '2028-01',
];

/** Month periods inside and outside the month policies' windows (2024-01 onwards). */
export const monthPeriod = fc.oneof(
  { arbitrary: fc.constantFrom(...MONTH_PERIODS), weight: 3 },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 2019, max: 2031 }), fc.integer({ min: 1, max: 12 }))
      .map(([y, m]) => `${y}-${pad(m)}`),
    weight: 1,
  },
);

/** Year periods inside and outside the year policies' windows (2022..2027, 2023..2027, 2025..). */
export const yearPeriod = fc.oneof(
  { arbitrary: fc.constantFrom('2022', '2023', '2024', '2025', '2026', '2027'), weight: 6 },
  { arbitrary: fc.constantFrom('2020', '2021', '2028', '2029'), weight: 2 },
  { arbitrary: fc.integer({ min: 1990, max: 2060 }).map(String), weight: 1 },
);

const anyDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true })
  .map(iso);
const badDate = fc.constantFrom(
  '2025-02-29',
  '1945-13-01',
  '1945-00-10',
  '45-01-01',
  '0050-03-01',
  '1945-3-1',
  19450301,
  '',
  true,
);
const LEAP_BIRTHS = [
  '1924-02-29',
  '1928-02-29',
  '1936-02-29',
  '1944-02-29',
  '1996-02-29',
  '2020-02-29',
  '2024-02-29',
  '2028-02-29',
];
const dayShift = fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -400, max: 400 }));

/** A birth date relative to the period start: the ages the allowance tiers and the childcare months turn on. */
const birthSpec = fc.oneof(
  {
    arbitrary: fc.record({
      age: fc.oneof(
        fc.constantFrom(0, 1, 2, 3, 4, 79, 80, 89, 90, 99, 100, 101),
        fc.integer({ min: 0, max: 115 }),
      ),
      days: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -40, max: 40 })),
    }),
    weight: 6,
  },
  {
    // Within a few years of the period: births during the year, third birthdays, future births.
    arbitrary: fc.record({
      years: fc.integer({ min: -1, max: 4 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.oneof(fc.integer({ min: 1, max: 28 }), fc.constantFrom(29, 30, 31)),
    }),
    weight: 3,
  },
  { arbitrary: fc.constantFrom(...LEAP_BIRTHS), weight: 1 },
  { arbitrary: anyDate, weight: 1 },
);

function birthOf(spec: unknown, start: string, year: number): unknown {
  if (typeof spec === 'string') return spec;
  const s = spec as { age?: number; days?: number; years?: number; month?: number; day?: number };
  if (s.age !== undefined) return shift(start, s.age, s.days ?? 0);
  const y = year - s.years!;
  // An impossible day (31 April) becomes the last day of that month rather than an invalid date.
  const t = new Date(Date.UTC(y, s.month! - 1, s.day!));
  return t.getUTCMonth() === s.month! - 1 ? iso(t) : iso(new Date(Date.UTC(y, s.month!, 0)));
}

/** A date around the period start (death, certificate expiry), or any date. */
const aroundStart = fc.oneof(
  { arbitrary: dayShift.map((d) => ({ d })), weight: 4 },
  { arbitrary: anyDate, weight: 1 },
);
const aroundOf = (spec: unknown, start: string): unknown =>
  typeof spec === 'string' ? spec : shift(start, 0, (spec as { d: number }).d);

/** Person facts for a period. */
export const personCase = (period: fc.Arbitrary<string>): fc.Arbitrary<FactCase> =>
  fc
    .record({
      period,
      birth: maybe(birthSpec, badDate),
      // Most people are alive; when dead, mostly around the period start.
      death: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 6 },
        { arbitrary: aroundStart, weight: 3 },
        { arbitrary: fc.oneof(fc.constant(null), badDate), weight: 1 },
      ),
      hukouRegion: maybe(
        fc.constantFrom('110105', '110000', '119999', '120101', '310115', '011000', '211000'),
        fc.constantFrom('11', '1101051', 110105, 'abcdef', '11010a'),
      ),
      guardians: maybe(fc.constantFrom([], ['g-1'], ['g-1', 'g-2']), fc.constantFrom([''], 'g-1', [1])),
      disabilityLevel: maybe(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 5, '1', 1.5, -1)),
      cert: maybe(aroundStart, badDate),
      dibaoEnrolled: maybe(fc.boolean(), fc.constantFrom('true', 1, 0)),
    })
    .map((r) => {
      const p = parsePeriod(r.period)!;
      const isSpec = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
      return {
        period: r.period,
        facts: compact({
          birthDate:
            isSpec(r.birth) || (typeof r.birth === 'string' && LEAP_BIRTHS.includes(r.birth))
              ? birthOf(r.birth, p.start, p.year)
              : r.birth,
          deathDate: isSpec(r.death) ? aroundOf(r.death, p.start) : r.death,
          hukouRegion: r.hukouRegion,
          guardians: r.guardians,
          disabilityLevel: r.disabilityLevel,
          disabilityCertValidUntil: isSpec(r.cert) ? aroundOf(r.cert, p.start) : r.cert,
          dibaoEnrolled: r.dibaoEnrolled,
        }),
      };
    });

const MAX = Number.MAX_SAFE_INTEGER;
const income = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      300_000_000,
      299_999_999,
      300_000_001,
      0,
      1,
      -1,
      -300_000_000,
      1_234_567,
      2,
      3,
      7,
    ),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 300_000_000 }), weight: 4 },
  { arbitrary: fc.constantFrom(MAX, -MAX, Math.floor(MAX / 20), Math.floor(MAX / 60) + 1), weight: 1 },
);
const assets = fc.oneof(
  { arbitrary: fc.constantFrom(5_000_000_000, 4_999_999_999, 5_000_000_001, 0, -1), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 5_000_000_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 10_000_000_000 }), weight: 1 },
);
/** Amounts whose half (or 60% / 30%) ends in exactly half a fen, and their neighbours, signed. */
const halfFen = fc.oneof(
  fc.constantFrom(1, 3, 5, 15, 25, 35, 45, 1001, 0, -1, -3, -5, -15, 2, 10),
  fc.integer({ min: -100, max: 100 }),
  fc.integer({ min: 0, max: 2_000_000_000 }),
  fc.integer({ min: 0, max: 1_000_000 }).map((k) => k * 10 + 5),
);
const employees = fc.oneof(
  { arbitrary: fc.constantFrom(300, 301, 299, 0, 1), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 2000 }), weight: 1 },
);
/** Booleans that are mostly `false` (no restricted industry, no arrears), as in real populations. */
const mostlyFalse = fc.oneof(
  { arbitrary: fc.constant(false), weight: 4 },
  { arbitrary: fc.constant(true), weight: 1 },
);
const headcount = fc.oneof(
  fc.constantFrom(30, 31, 29, 1, 0, 200, 1000, 20),
  fc.integer({ min: 0, max: 5000 }),
);

/**
 * A per-year fact: the value for the period's year, sometimes only for another year, sometimes as
 * an explicit null or a bare value (not an object keyed by year), or absent.
 */
function perYear<T>(
  value: fc.Arbitrary<T>,
  wrong: fc.Arbitrary<unknown>,
): fc.Arbitrary<(y: number) => unknown> {
  return fc.oneof(
    { arbitrary: value.map((v) => (y: number) => ({ [y]: v })), weight: 70 },
    {
      arbitrary: fc.tuple(value, value).map(([v, w]) => (y: number) => ({ [y - 1]: w, [y]: v })),
      weight: 5,
    },
    { arbitrary: value.map((v) => (y: number) => ({ [y - 1]: v })), weight: 4 },
    { arbitrary: fc.constant(() => undefined), weight: 15 },
    {
      arbitrary: fc.oneof(
        wrong.map((w) => (y: number) => ({ [y]: w })),
        value.map((v) => () => v),
        fc.constantFrom(null, [] as unknown[]).map((v) => () => v),
      ),
      weight: 4,
    },
  );
}

/** Enterprise facts for a period. */
export const enterpriseCase = (period: fc.Arbitrary<string>): fc.Arbitrary<FactCase> =>
  fc
    .record({
      period,
      enterpriseType: maybe(
        fc.constantFrom('company', 'individual-business'),
        fc.constantFrom('Company', 'partnership', 1),
      ),
      vatTaxpayerType: maybe(fc.constantFrom('small-scale', 'general'), fc.constantFrom('small', true)),
      industryRestricted: perYear(mostlyFalse, fc.constantFrom('false', 0)),
      taxableIncome: perYear(income, fc.constantFrom(1.5, '100', MAX + 1)),
      employeesAvg: perYear(employees, fc.constantFrom(-1, 300.5, '300')),
      totalAssetsAvg: perYear(assets, fc.constantFrom(0.1, '5000000000')),
      localTaxesDue: perYear(halfFen, fc.constantFrom(2.5, '3')),
      enterpriseSize: perYear(
        fc.constantFrom('large', 'medium', 'small', 'micro'),
        fc.constantFrom('huge', 1),
      ),
      uiPremiumsPaid: perYear(halfFen, fc.constantFrom(0.5, '15')),
      uiInsured: fc.oneof(
        { arbitrary: headcount.map((h) => ({ h })), weight: 85 },
        { arbitrary: fc.constantFrom(-1, 1.5, '30'), weight: 5 },
        { arbitrary: fc.constant(undefined), weight: 10 },
      ),
      // Layoffs just below, at and above the limit for the headcount (20% up to 30, 5.5% above).
      uiLayoffs: fc.oneof(
        { arbitrary: fc.integer({ min: -2, max: 2 }).map((d) => ({ d })), weight: 70 },
        { arbitrary: fc.integer({ min: 0, max: 500 }), weight: 10 },
        { arbitrary: fc.constantFrom(-1, 2.5, '1'), weight: 5 },
        { arbitrary: fc.constant(undefined), weight: 15 },
      ),
      uiArrears: perYear(mostlyFalse, fc.constantFrom('no', 0)),
    })
    .map((r) => {
      const p = parsePeriod(r.period)!;
      const y = p.year;
      const h = r.uiInsured as { h: number } | number | string | undefined;
      const hc = typeof h === 'object' && h !== null ? h.h : h;
      const l = r.uiLayoffs as { d: number } | number | string | undefined;
      let layoffs: unknown = l;
      if (typeof l === 'object' && l !== null) {
        const base =
          typeof hc === 'number' ? Math.floor((hc <= 30 ? hc * 20 : hc * 55) / (hc <= 30 ? 100 : 1000)) : 0;
        layoffs = Math.max(0, base + l.d);
      }
      return {
        period: r.period,
        facts: compact({
          enterpriseType: r.enterpriseType,
          vatTaxpayerType: r.vatTaxpayerType,
          industryRestricted: r.industryRestricted(y),
          taxableIncome: r.taxableIncome(y),
          employeesAvg: r.employeesAvg(y),
          totalAssetsAvg: r.totalAssetsAvg(y),
          localTaxesDue: r.localTaxesDue(y),
          enterpriseSize: r.enterpriseSize(y),
          uiPremiumsPaid: r.uiPremiumsPaid(y),
          uiInsuredHeadcount: hc === undefined ? undefined : { [y]: hc },
          uiLayoffs: layoffs === undefined ? undefined : { [y]: layoffs },
          uiArrears: r.uiArrears(y),
        }),
      };
    });
