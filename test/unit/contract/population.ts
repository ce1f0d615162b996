/**
 * Subjects for the contract test (oracle.test.ts): a seeded, boundary-heavy population and hand-made
 * boundary cases. Every present value fits the fact catalogue of benefits.md; what varies is which
 * facts are there at all (absent, `null`, or present only for other years than the evaluated one)
 * and where values sit: ages 79/80/89/90/99/100 around the first of a month, 29 February births,
 * deaths and certificate expiries on and around a period's first day, third birthdays, incomes
 * around 0 and 300000000, 300/301 employees, assets around 5000000000, layoff rates at 20% and 5.5%
 * with 30/31 insured, odd amounts that round half-up, and money up to 2^53 - 1.
 */
import { prng } from '../../../src/testing/prng.ts';
import type { Subject } from './oracle.ts';

type Facts = Record<string, unknown>;

const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const dim = (y: number, m: number): number =>
  [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
const p2 = (x: number): string => String(x).padStart(2, '0');
const fmt = (y: number, m: number, d: number): string => `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}`;
/** `YYYY-MM-DD` of y-m-d shifted by k days. */
function addDays(y: number, m: number, d: number, k: number): string {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  t.setUTCDate(t.getUTCDate() + k);
  return fmt(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Months near the windows' edges and the periods the test evaluates. */
const FOCUS_MONTHS: readonly (readonly [number, number])[] = [
  [2023, 12],
  [2024, 1],
  [2024, 2],
  [2024, 3],
  [2024, 12],
  [2025, 1],
  [2025, 2],
  [2025, 3],
  [2025, 12],
  [2026, 1],
  [2026, 2],
  [2026, 3],
  [2027, 1],
  [2027, 2],
  [2027, 3],
  [2028, 2],
  [2028, 3],
  [2028, 12],
];
const HUKOU = ['110105', '110000', '119999', '110101', '120101', '310000', '011000', '101100'];
const MAXS = Number.MAX_SAFE_INTEGER;
const PER_YEAR = [
  'industryRestricted',
  'taxableIncome',
  'employeesAvg',
  'totalAssetsAvg',
  'localTaxesDue',
  'enterpriseSize',
  'uiPremiumsPaid',
  'uiInsuredHeadcount',
  'uiLayoffs',
  'uiArrears',
] as const;

/** `n` subjects (about 55% persons) with ids `s<seed>-<i>`, the same for the same seed. */
export function generatePopulation(seed: number, n: number): Subject[] {
  const rnd = prng(seed);
  const ri = (a: number, b: number): number => a + Math.floor(rnd() * (b - a + 1));
  const pick = <T>(arr: readonly T[]): T => arr[Math.floor(rnd() * arr.length)] as T;
  const chance = (p: number): boolean => rnd() < p;

  function birthAroundBirthday(years: number): string {
    const [fy, fm] = pick(FOCUS_MONTHS);
    if (rnd() < 0.1) {
      const leapYears: number[] = [];
      for (let y = fy - years - 4; y <= fy - years + 4; y++) if (leap(y)) leapYears.push(y);
      return fmt(pick(leapYears), 2, 29);
    }
    // The birthday on start(M), a few days either side, or a month either side.
    const by = fy - years;
    const base = addDays(by, fm, 1, pick([0, 0, 0, -1, 1, -2, 2, 27, 28, 29, 30, 31, -28, -29, -30, -31]));
    if (chance(0.15)) {
      // The last day of the previous month or of this one.
      const mm = pick([fm, fm === 1 ? 12 : fm - 1]);
      const yy = mm === 12 && fm === 1 ? by - 1 : by;
      return fmt(yy, mm, dim(yy, mm));
    }
    return base;
  }
  function childBirth(): string {
    const r = rnd();
    if (r < 0.08) return '2024-02-29';
    if (r < 0.12) return pick(['2020-02-29', '2028-02-29']);
    const y = ri(2020, 2028);
    const m = ri(1, 12);
    return fmt(y, m, pick([1, 1, 2, 15, dim(y, m), dim(y, m) - 1, ri(1, dim(y, m))]));
  }
  function randomDate(y0: number, y1: number): string {
    const y = ri(y0, y1);
    const m = ri(1, 12);
    return fmt(y, m, ri(1, dim(y, m)));
  }
  /** A death date (or `undefined`: no key, `null`: the same), often in the birth month or near start(M). */
  function deathFor(birth: string | undefined): string | null | undefined {
    const r = rnd();
    if (r < 0.62) return undefined;
    if (r < 0.65) return null;
    if (r < 0.75 && birth !== undefined) {
      const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
      return pick([
        fmt(by, bm, Math.min(dim(by, bm), bd + ri(0, 5))),
        fmt(by, bm, dim(by, bm)),
        addDays(by, bm, dim(by, bm), 1),
        birth,
        addDays(by, bm, bd, -1),
      ]);
    }
    const [fy, fm] = pick(FOCUS_MONTHS);
    return addDays(fy, fm, 1, pick([0, 0, -1, -1, 1, -31, 31, -400, 365, ri(-900, 900)]));
  }

  function person(id: string): Subject {
    const f: Facts = {};
    const r = rnd();
    let birth: string | undefined;
    if (r < 0.35) birth = birthAroundBirthday(pick([80, 80, 90, 90, 100, 100, 79, 99, 101]));
    else if (r < 0.7) birth = childBirth();
    else if (r < 0.95) birth = randomDate(1900, 2029);
    if (birth !== undefined) f['birthDate'] = birth;
    const death = deathFor(birth);
    if (death !== undefined) f['deathDate'] = death;
    if (!chance(0.07)) f['hukouRegion'] = chance(0.7) ? pick(HUKOU.slice(0, 4)) : pick(HUKOU);
    if (chance(0.5))
      f['guardians'] = chance(0.8) ? [`g-${ri(1, 999)}`, ...(chance(0.4) ? [`g-${ri(1, 999)}`] : [])] : [];
    const dl = rnd();
    if (dl >= 0.45) f['disabilityLevel'] = dl < 0.5 ? null : pick([1, 1, 2, 2, 3, 4]);
    if (chance(0.5)) {
      const [fy, fm] = pick(FOCUS_MONTHS);
      f['disabilityCertValidUntil'] = chance(0.1)
        ? null
        : addDays(fy, fm, 1, pick([0, 0, 0, -1, 1, 30, -30, ri(-1000, 1000)]));
    }
    const db = rnd();
    if (db < 0.45) f['dibaoEnrolled'] = true;
    else if (db < 0.85) f['dibaoEnrolled'] = false;
    else if (db < 0.9) f['dibaoEnrolled'] = null;
    if (chance(0.01)) f['taxableIncome'] = { '2025': 5 }; // an enterprise fact: no person policy reads it
    return { subject: id, kind: 'person', facts: f };
  }

  const money = {
    taxableIncome: () =>
      pick([
        0,
        1,
        -1,
        -100000,
        300000000,
        300000001,
        299999999,
        299999997,
        2,
        3,
        7,
        ri(1, 300000000),
        ri(1, 300000000) | 1,
        ri(300000001, 900000000),
        ri(1, 999),
        MAXS,
        1e8,
        -0,
      ]),
    totalAssetsAvg: () =>
      pick([5000000000, 5000000001, 4999999999, 0, ri(1, 5000000000), ri(5000000000, 9000000000), -1, MAXS]),
    localTaxesDue: () =>
      pick([
        0,
        1,
        2,
        3,
        -1,
        -3,
        ri(1, 1e6) | 1,
        ri(1, 1e9),
        12345,
        99999,
        MAXS,
        MAXS - 2,
        Number(BigInt(MAXS) / 50n + 1n),
        Number(BigInt(MAXS) / 3n),
      ]),
    uiPremiumsPaid: () =>
      pick([
        0,
        1,
        5,
        15,
        25,
        -5,
        ri(1, 1e6),
        ri(1, 1e6) * 10 + 5,
        ri(1, 1e7) * 10 + 5,
        12345,
        12347,
        99999,
        MAXS,
        Number(BigInt(MAXS) / 60n + 7n),
        MAXS - 4,
        Number((BigInt(MAXS) / 10n) * 10n - 5n),
      ]),
  };
  /** An insured head count and a layoff count at, just over, or away from the limit for that head count. */
  function headAndLayoffs(): [number, number] {
    const hc = pick([0, 1, 4, 5, 6, 10, 29, 30, 30, 31, 31, 32, 200, 1000, 1000, ri(1, 50), ri(1, 5000)]);
    const lim = hc <= 30 ? Math.floor(hc / 5) : Math.floor((55 * hc) / 1000);
    return [hc, pick([lim, lim, lim + 1, 0, ri(0, hc)])];
  }
  function enterprise(id: string): Subject {
    const f: Facts = {};
    const et = rnd();
    if (et < 0.55) f['enterpriseType'] = 'company';
    else if (et < 0.85) f['enterpriseType'] = 'individual-business';
    else if (et < 0.9) f['enterpriseType'] = null;
    const vt = rnd();
    if (vt < 0.4) f['vatTaxpayerType'] = 'small-scale';
    else if (vt < 0.85) f['vatTaxpayerType'] = 'general';
    else if (vt < 0.9) f['vatTaxpayerType'] = null;
    // The years with facts: most of 2020..2028, a short run, a single year, or none.
    const years: number[] = [];
    const mode = rnd();
    if (mode < 0.5) {
      for (let y = 2020; y <= 2028; y++) if (chance(0.85)) years.push(y);
    } else if (mode < 0.8) {
      const y0 = ri(2019, 2029);
      const y1 = Math.min(2029, y0 + ri(0, 3));
      for (let y = y0; y <= y1; y++) years.push(y);
    } else if (mode < 0.95) years.push(ri(2019, 2029));
    const coherent = chance(0.6); // most facts present for a year, or patchy
    for (const y of years) {
      const [hc, lo] = headAndLayoffs();
      const vals: Record<(typeof PER_YEAR)[number], unknown> = {
        industryRestricted: !chance(0.8),
        taxableIncome: money.taxableIncome(),
        employeesAvg: pick([0, 1, 300, 301, 299, ri(0, 300), ri(0, 1000)]),
        totalAssetsAvg: money.totalAssetsAvg(),
        localTaxesDue: money.localTaxesDue(),
        enterpriseSize: pick(['large', 'medium', 'small', 'micro', 'micro', 'small']),
        uiPremiumsPaid: money.uiPremiumsPaid(),
        uiInsuredHeadcount: hc,
        uiLayoffs: lo,
        uiArrears: !chance(0.8),
      };
      for (const k of PER_YEAR) {
        if (chance(coherent ? 0.04 : 0.3)) continue;
        f[k] = { ...(f[k] as Facts | undefined), [String(y)]: chance(0.01) ? null : vals[k] };
      }
    }
    if (chance(0.02)) f['uiArrears'] = null;
    if (chance(0.01)) f['birthDate'] = '2000-01-01'; // a person fact: no enterprise policy reads it
    return { subject: id, kind: 'enterprise', facts: f };
  }

  const out: Subject[] = [];
  for (let i = 0; i < n; i++) {
    const id = `s${seed}-${i}`;
    out.push(chance(0.55) ? person(id) : enterprise(id));
  }
  return out;
}

/** Drops keys whose value is `undefined` (a case leaves a fact out by setting it to `undefined`). */
function compact(o: Facts): Facts {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
const P = (id: string, facts: Facts): Subject => ({
  subject: `b-${id}`,
  kind: 'person',
  facts: compact(facts),
});
const E = (id: string, facts: Facts): Subject => ({
  subject: `b-${id}`,
  kind: 'enterprise',
  facts: compact(facts),
});
const H = '110105';
const yr = (v: unknown, y = 2025): Facts => ({ [String(y)]: v });
/** A small low-profit company in 2025, at every ceiling. */
const cit = (o: Facts = {}): Facts => ({
  enterpriseType: 'company',
  vatTaxpayerType: 'general',
  industryRestricted: yr(false),
  taxableIncome: yr(300000000),
  employeesAvg: yr(300),
  totalAssetsAvg: yr(5000000000),
  localTaxesDue: yr(12345),
  ...o,
});
/** Unemployment-insurance facts for 2025. */
const ui = (paid: number, hc: number, lo: number, size?: string, o: Facts = {}): Facts => ({
  uiPremiumsPaid: yr(paid),
  uiInsuredHeadcount: yr(hc),
  uiLayoffs: yr(lo),
  uiArrears: yr(false),
  enterpriseSize: size === undefined ? undefined : yr(size),
  ...o,
});

/** Hand-made boundary cases (ids `b-*`), mostly decided in 2025 or 2025-03. */
export const BOUNDARY_CASES: readonly Subject[] = [
  P('age80-1st', { birthDate: '1945-03-01', hukouRegion: H }),
  P('age79-2nd', { birthDate: '1945-03-02', hukouRegion: H }),
  P('age80-lastday', { birthDate: '1945-02-28', hukouRegion: H }),
  P('leap-1944', { birthDate: '1944-02-29', hukouRegion: H }),
  P('leap-1936', { birthDate: '1936-02-29', hukouRegion: H }),
  P('age90', { birthDate: '1935-03-01', hukouRegion: H }),
  P('age100', { birthDate: '1925-03-01', hukouRegion: H }),
  P('age99', { birthDate: '1925-03-02', hukouRegion: H }),
  P('died-on-start', { birthDate: '1940-01-01', hukouRegion: H, deathDate: '2025-03-01' }),
  P('died-before-start', { birthDate: '1940-01-01', hukouRegion: H, deathDate: '2025-02-28' }),
  P('hukou-12', { birthDate: '1940-01-01', hukouRegion: '120105' }),
  P('hukou-missing', { birthDate: '1940-01-01' }),
  P('child-2024-02-29', { birthDate: '2024-02-29', hukouRegion: '120000', guardians: ['g1'] }),
  P('child-2022-01-15', { birthDate: '2022-01-15', hukouRegion: H }),
  P('child-2022-02-01', { birthDate: '2022-02-01', hukouRegion: H }),
  P('child-2021-12-31', { birthDate: '2021-12-31', hukouRegion: H }),
  P('child-died-birth-month', { birthDate: '2025-03-10', deathDate: '2025-03-20', hukouRegion: H }),
  P('child-died-first-next', { birthDate: '2025-03-10', deathDate: '2025-04-01', hukouRegion: H }),
  P('child-died-last-birth-month', { birthDate: '2025-03-10', deathDate: '2025-03-31', hukouRegion: H }),
  P('child-death-before-birth', { birthDate: '2025-03-10', deathDate: '2025-03-01', hukouRegion: H }),
  P('child-born-1st-died-1st', { birthDate: '2025-03-01', deathDate: '2025-03-01', hukouRegion: H }),
  P('child-2027-12-31', { birthDate: '2027-12-31', hukouRegion: H }),
  P('child-2028-02-29', { birthDate: '2028-02-29', hukouRegion: H }),
  P('child-no-hukou', { birthDate: '2025-06-01' }),
  P('child-no-birth', { hukouRegion: H }),
  P('child-2024-12-death-2025-01-01', { birthDate: '2024-12-05', deathDate: '2025-01-01', hukouRegion: H }),
  P('child-2024-12-death-2024-12-31', { birthDate: '2024-12-05', deathDate: '2024-12-31', hukouRegion: H }),
  P('cert-at-start', {
    hukouRegion: H,
    disabilityLevel: 1,
    disabilityCertValidUntil: '2025-03-01',
    dibaoEnrolled: true,
  }),
  P('cert-day-before', {
    hukouRegion: H,
    disabilityLevel: 2,
    disabilityCertValidUntil: '2025-02-28',
    dibaoEnrolled: true,
  }),
  P('cert-absent-l2', { hukouRegion: H, disabilityLevel: 2, dibaoEnrolled: true }),
  P('level3-dibao', { hukouRegion: H, disabilityLevel: 3, dibaoEnrolled: true }),
  P('level4-nodibao', { hukouRegion: H, disabilityLevel: 4, dibaoEnrolled: false }),
  P('level-absent', { hukouRegion: H, dibaoEnrolled: true }),
  P('level-null', { hukouRegion: H, disabilityLevel: null, dibaoEnrolled: true }),
  P('level1-dibao-missing', { hukouRegion: H, disabilityLevel: 1 }),
  E('any-vat-only', { vatTaxpayerType: 'small-scale', localTaxesDue: yr(3) }),
  E('any-indiv-only', { enterpriseType: 'individual-business', localTaxesDue: yr(1) }),
  E('any-none-unknown-cit', { enterpriseType: 'company', vatTaxpayerType: 'general', localTaxesDue: yr(3) }),
  E('any-cit-false-other-unknown', {
    enterpriseType: 'company',
    vatTaxpayerType: 'general',
    localTaxesDue: yr(3),
    taxableIncome: yr(0),
  }),
  E('any-vat-unknown-cit-true', cit({ vatTaxpayerType: undefined })),
  E('cit-max', cit()),
  E('cit-over', cit({ taxableIncome: yr(300000001) })),
  E('cit-zero', cit({ taxableIncome: yr(0) })),
  E('cit-neg', cit({ taxableIncome: yr(-1) })),
  E('cit-7', cit({ taxableIncome: yr(7) })),
  E('cit-8', cit({ taxableIncome: yr(8) })),
  E('cit-emp301', cit({ employeesAvg: yr(301) })),
  E('cit-assets+1', cit({ totalAssetsAvg: yr(5000000001) })),
  E('cit-restricted', cit({ industryRestricted: yr(true) })),
  E('cit-indiv', cit({ enterpriseType: 'individual-business' })),
  E('cit-only-2024', {
    ...cit(),
    industryRestricted: yr(false, 2024),
    taxableIncome: yr(1000, 2024),
    employeesAvg: yr(3, 2024),
    totalAssetsAvg: yr(3, 2024),
    localTaxesDue: yr(3, 2024),
  }),
  E('six-odd', cit({ localTaxesDue: yr(12345), vatTaxpayerType: 'small-scale' })),
  E('six-max-safe', { vatTaxpayerType: 'small-scale', localTaxesDue: yr(MAXS) }),
  E('six-zero', { vatTaxpayerType: 'small-scale', localTaxesDue: yr(0) }),
  E('six-neg', { vatTaxpayerType: 'small-scale', localTaxesDue: yr(-3) }),
  E('ui-30-6', ui(12345, 30, 6, 'small')),
  E('ui-30-7', ui(12345, 30, 7, 'small')),
  E('ui-31-1', ui(12345, 31, 1, 'small')),
  E('ui-31-2', ui(12345, 31, 2, 'small')),
  E('ui-1000-55', ui(12345, 1000, 55, 'small')),
  E('ui-1000-56', ui(12345, 1000, 56, 'small')),
  E('ui-0-0', ui(12345, 0, 0, 'small')),
  E('ui-large-5', ui(5, 10, 0, 'large')),
  E('ui-large-15', ui(15, 10, 0, 'large')),
  E('ui-medium-1', ui(1, 10, 0, 'medium')),
  E('ui-micro-2', ui(2, 10, 0, 'micro')),
  E('ui-size-missing', ui(12345, 10, 0)),
  E('ui-arrears', ui(12345, 10, 0, 'small', { uiArrears: yr(true) })),
  E('ui-premium-0', ui(0, 10, 0, 'small')),
  E('ui-max-safe-medium', ui(MAXS, 10, 0, 'medium')),
  E('ui-max-safe-large', ui(MAXS, 10, 0, 'large')),
  E('ui-years-2021', {
    uiPremiumsPaid: yr(1000, 2021),
    uiInsuredHeadcount: yr(10, 2021),
    uiLayoffs: yr(0, 2021),
    uiArrears: yr(false, 2021),
    enterpriseSize: yr('large', 2021),
  }),
  E('ui-years-2022', {
    uiPremiumsPaid: yr(1000, 2022),
    uiInsuredHeadcount: yr(10, 2022),
    uiLayoffs: yr(0, 2022),
    uiArrears: yr(false, 2022),
    enterpriseSize: yr('large', 2022),
  }),
];
