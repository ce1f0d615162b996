/**
 * An independent implementation of the benefits contract (`shared/spec/benefits.md`), written from
 * that file alone: it imports nothing from src/ and knows nothing of rules/. The contract test
 * (oracle.test.ts) holds the engine's evaluators to it.
 *
 * Readings of the contract where the text leaves a choice:
 *  - A fact is read by name from `facts`; a key whose value is `null` counts as a missing key.
 *  - `deathDate`, `disabilityLevel` and `disabilityCertValidUntil` are typed "or absent": a missing key
 *    means absent (alive; no certificate, so a condition on the level simply fails; no expiry). Any
 *    other missing fact is unknown.
 *  - A present value of the wrong type or outside its catalogue range is unknown: dates must be real
 *    calendar dates `YYYY-MM-DD`; `hukouRegion` six digits; `disabilityLevel` a whole number 1..4;
 *    money (fen) any whole number; head counts (`employeesAvg`, `uiInsuredHeadcount`, `uiLayoffs`)
 *    whole numbers >= 0; enumerations exactly one of their listed strings; booleans true or false. A
 *    whole number is a safe integer (|n| <= 2^53 - 1); a larger one cannot be held exactly and is
 *    unknown.
 *  - A per-year fact is an object keyed by year (`{"2025": value}`); only the evaluated year's entry is
 *    read (a missing or null entry is unknown), whatever the other years hold. A per-year fact that
 *    is not an object is unknown.
 *  - Conditions are three-valued (Kleene): "all hold" is false when one is false, unknown when none is
 *    false and one is unknown; "at least one holds" is true when one is true. Only a definitely true
 *    condition is eligible: an unknown never grants.
 *  - Reasons of a not-eligible outcome: the oracle's own names of the conditions that failed, then
 *    `missing-fact:<name>` (sorted) for the unknown facts that make a listed condition of the policy
 *    unknown, for every listed condition whose value is unknown, even when another one is false (for
 *    six-taxes' "at least one holds", the unknown facts of its unknown branches).
 *  - Outside the effective window the only reason is `outside-effective-period`; nothing is read.
 *  - Childcare: with an unknown `birthDate` no month can be counted (`missing-fact:birthDate`). The
 *    birth month counts whatever `deathDate` says; a later month counts when alive on its first day
 *    (an unknown `deathDate` there leaves the count unknown: `missing-fact:deathDate`).
 *  - Job stabilization: the layoff limit is compared in whole numbers, `uiLayoffs × 100 <= 20 ×
 *    uiInsuredHeadcount` when the head count is at most 30, `uiLayoffs × 1000 <= 55 ×
 *    uiInsuredHeadcount` otherwise; an unknown `enterpriseSize` is a missing fact even when the
 *    other conditions fail.
 *  - Amounts are exact: products are taken in BigInt, rounded half-up (toward +infinity) to a whole
 *    fen, and must come back as a safe integer.
 *  - Rows: one per policy of the subject's kind whose period unit is the period's (`YYYY` year,
 *    `YYYY-MM` month), in the catalogue's order.
 */

export type SubjectKind = 'person' | 'enterprise';

/** An evaluated subject: an id, its kind, and its facts as they would arrive in a `pb evaluate` line. */
export interface Subject {
  subject: string;
  kind: SubjectKind;
  facts: Record<string, unknown>;
}

/** One decision, as the engine's `EvaluationResult`. */
export interface OracleRow {
  subject: string;
  policy: string;
  period: string;
  outcome: 'eligible' | 'not-eligible';
  amount: number | null;
  reasons: string[];
}

// ---------- fact reading ----------

const UNKNOWN: unique symbol = Symbol('unknown');
const ABSENT: unique symbol = Symbol('absent');
type Unknown = typeof UNKNOWN;
type Absent = typeof ABSENT;

const own = (o: object, k: string): boolean => Object.hasOwn(o, k);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function isDate(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}
function daysInMonth(y: number, m: number): number {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
}
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isFen = (v: unknown): v is number => Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isHukou = (v: unknown): v is string => typeof v === 'string' && /^\d{6}$/.test(v);
const isLevel = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 4;
const oneOf =
  <T extends string>(...values: T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as string[]).includes(v);
const isEnterpriseType = oneOf('company', 'individual-business');
const isVatType = oneOf('small-scale', 'general');
const isSize = oneOf('large', 'medium', 'small', 'micro');

/** A fact that is not per year: the value, UNKNOWN, or (for the "or absent" facts) ABSENT. */
/** A fact's value; a missing key (or null) reads as `missing`: unknown, or "absent" for an "or absent" fact. */
function read<T, M>(
  facts: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
  missing: M,
): T | Unknown | M {
  if (!own(facts, name) || facts[name] === null) return missing;
  const v = facts[name];
  return check(v) ? v : UNKNOWN;
}
const fact = <T>(facts: Record<string, unknown>, name: string, check: (v: unknown) => v is T): T | Unknown =>
  read(facts, name, check, UNKNOWN);
const absentable = <T>(
  facts: Record<string, unknown>,
  name: string,
  check: (v: unknown) => v is T,
): T | Unknown | Absent => read(facts, name, check, ABSENT);
/** A per-year fact's value for year `y` (only that year's entry is read). */
function yearly<T>(
  facts: Record<string, unknown>,
  name: string,
  y: number,
  check: (v: unknown) => v is T,
): T | Unknown {
  if (!own(facts, name) || facts[name] === null) return UNKNOWN;
  const byYear = facts[name];
  if (!isPlainObject(byYear)) return UNKNOWN;
  const key = String(y);
  if (!own(byYear, key) || byYear[key] === null) return UNKNOWN;
  const v = byYear[key];
  return check(v) ? v : UNKNOWN;
}

// ---------- three-valued conditions ----------

interface Cond {
  name: string;
  v: boolean | null;
  /** Unknown facts read by this condition (for a leaf: the ones that make it unknown). */
  missing: Set<string>;
  /** Names of the conditions that are definitely false (a failed "at least one" names itself). */
  failed: string[];
  parts?: Cond[];
}

/** A leaf over some facts: unknown when one of them is, else the test's value. */
function leaf(name: string, needs: Record<string, unknown>, test: () => boolean): Cond {
  const missing = new Set(Object.keys(needs).filter((k) => needs[k] === UNKNOWN));
  if (missing.size > 0) return { name, v: null, missing, failed: [] };
  const v = test();
  return { name, v, missing, failed: v ? [] : [name] };
}
const union = (parts: Cond[]): Set<string> => new Set(parts.flatMap((p) => [...p.missing]));
function all(name: string, parts: Cond[]): Cond {
  const v = parts.some((p) => p.v === false) ? false : parts.some((p) => p.v === null) ? null : true;
  return { name, v, parts, failed: parts.flatMap((p) => p.failed), missing: union(parts) };
}
function any(name: string, parts: Cond[]): Cond {
  const v = parts.some((p) => p.v === true) ? true : parts.some((p) => p.v === null) ? null : false;
  return { name, v, parts, failed: v === false ? [name] : [], missing: union(parts) };
}
/** The unknown facts that make `c` unknown (none when `c` is known). */
function kleeneMissing(c: Cond): Set<string> {
  if (c.v !== null) return new Set();
  if (!c.parts) return c.missing;
  return new Set(c.parts.flatMap((p) => [...kleeneMissing(p)]));
}

// ---------- dates, periods, money ----------

const ymd = (s: string): [number, number, number] => s.split('-').map(Number) as [number, number, number];
/** Age on `d` for birth date `b`, both `YYYY-MM-DD`. */
function ageOn(b: string, d: string): number {
  const [by, bm, bd] = ymd(b);
  const [dy, dm, dd] = ymd(d);
  return dy - by - (dm < bm || (dm === bm && dd < bd) ? 1 : 0);
}
const alive = (death: string | Absent, d: string): boolean => death === ABSENT || death >= d;
const monthKey = (y: number, m: number): string =>
  `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
/** `x × num / den` rounded half-up to a whole fen, exactly. */
function halfUp(x: number, num: bigint, den: bigint): number {
  const r = floorDiv(BigInt(x) * num * 2n + den, 2n * den);
  if (r > MAX_SAFE || r < -MAX_SAFE) throw new Error(`amount ${r} is not a safe integer`);
  return Number(r);
}

// ---------- policies ----------

interface Verdict {
  c: Cond;
  amount: () => number;
}
interface Policy {
  id: string;
  kind: SubjectKind;
  unit: 'year' | 'month';
  /** First and last period of the effective window, in the policy's unit; `null`: no end. */
  from: string;
  to: string | null;
  evaluate: (facts: Record<string, unknown>, period: string) => Verdict;
}

const H11 = (h: string): boolean => h.startsWith('11');
/** A leaf over known facts. */
const test = (name: string, v: boolean): Cond => leaf(name, {}, () => v);

function childcare(f: Record<string, unknown>, period: string): Verdict {
  const y = Number(period);
  const birth = fact(f, 'birthDate', isDate);
  const death = absentable(f, 'deathDate', isDate);
  const hukou = fact(f, 'hukouRegion', isHukou);
  const hk = leaf('hukouRegion-known', { hukouRegion: hukou }, () => true);
  let count = 0;
  let months: Cond;
  if (birth === UNKNOWN) {
    const needs: Record<string, unknown> = { birthDate: UNKNOWN };
    if (death === UNKNOWN) needs['deathDate'] = UNKNOWN;
    months = leaf('countedMonths>=1', needs, () => false);
  } else {
    const [by, bm] = ymd(birth);
    const birthMonth = monthKey(by, bm);
    const third = monthKey(by + 3, bm);
    let needDeath = false;
    for (let m = 1; m <= 12; m++) {
      const mk = monthKey(y, m);
      if (!(mk >= '2025-01' && mk >= birthMonth && mk < third)) continue;
      if (mk === birthMonth) count += 1;
      else if (death === UNKNOWN) needDeath = true;
      else if (alive(death, `${mk}-01`)) count += 1;
    }
    months = needDeath
      ? leaf('countedMonths>=1', { deathDate: UNKNOWN }, () => false)
      : leaf('countedMonths>=1', {}, () => count >= 1);
  }
  return { c: all('childcare', [hk, months]), amount: () => count * 30000 };
}

function personMonth(f: Record<string, unknown>, month: string): { start: string; hk: Cond; al: Cond } {
  const start = `${month}-01`;
  const hukou = fact(f, 'hukouRegion', isHukou);
  const death = absentable(f, 'deathDate', isDate);
  return {
    start,
    hk:
      hukou === UNKNOWN
        ? leaf('hukouRegion-11', { hukouRegion: UNKNOWN }, () => false)
        : test('hukouRegion-11', H11(hukou)),
    al:
      death === UNKNOWN
        ? leaf('alive', { deathDate: UNKNOWN }, () => false)
        : test('alive', alive(death, start)),
  };
}
function elderly(f: Record<string, unknown>, month: string): Verdict {
  const { start, hk, al } = personMonth(f, month);
  const birth = fact(f, 'birthDate', isDate);
  const age = birth === UNKNOWN ? null : ageOn(birth, start);
  const ag = age === null ? leaf('age>=80', { birthDate: UNKNOWN }, () => false) : test('age>=80', age >= 80);
  const a = age ?? 0;
  return { c: all('elderly', [hk, al, ag]), amount: () => (a >= 100 ? 80000 : a >= 90 ? 50000 : 10000) };
}
function certValid(f: Record<string, unknown>, start: string): Cond {
  const cert = absentable(f, 'disabilityCertValidUntil', isDate);
  if (cert === UNKNOWN) return leaf('certificate-valid', { disabilityCertValidUntil: UNKNOWN }, () => false);
  return test('certificate-valid', cert === ABSENT || cert >= start);
}
function nursing(f: Record<string, unknown>, month: string): Verdict {
  const { start, hk, al } = personMonth(f, month);
  const lvl = absentable(f, 'disabilityLevel', isLevel);
  const lv =
    lvl === UNKNOWN
      ? leaf('disabilityLevel-1-2', { disabilityLevel: UNKNOWN }, () => false)
      : test('disabilityLevel-1-2', lvl === 1 || lvl === 2);
  return {
    c: all('nursing', [hk, al, lv, certValid(f, start)]),
    amount: () => (lvl === 1 ? 30000 : 20000),
  };
}
function living(f: Record<string, unknown>, month: string): Verdict {
  const { start, hk, al } = personMonth(f, month);
  const lvl = absentable(f, 'disabilityLevel', isLevel);
  const lv =
    lvl === UNKNOWN
      ? leaf('disabilityLevel-1-4', { disabilityLevel: UNKNOWN }, () => false)
      : test('disabilityLevel-1-4', lvl !== ABSENT && lvl >= 1 && lvl <= 4);
  const db = fact(f, 'dibaoEnrolled', isBool);
  const dl = leaf('dibaoEnrolled', { dibaoEnrolled: db }, () => db === true);
  return { c: all('living', [hk, al, lv, certValid(f, start), dl]), amount: () => 10000 };
}

function citCond(f: Record<string, unknown>, y: number): Cond {
  const et = fact(f, 'enterpriseType', isEnterpriseType);
  const ir = yearly(f, 'industryRestricted', y, isBool);
  const ti = yearly(f, 'taxableIncome', y, isFen);
  const ea = yearly(f, 'employeesAvg', y, isCount);
  const ta = yearly(f, 'totalAssetsAvg', y, isFen);
  return all('small-low-profit-cit', [
    leaf('enterpriseType-company', { enterpriseType: et }, () => et === 'company'),
    leaf('industryRestricted-false', { industryRestricted: ir }, () => ir === false),
    leaf('taxableIncome-range', { taxableIncome: ti }, () => ti !== UNKNOWN && ti > 0 && ti <= 300000000),
    leaf('employeesAvg<=300', { employeesAvg: ea }, () => ea !== UNKNOWN && ea <= 300),
    leaf('totalAssetsAvg<=5000000000', { totalAssetsAvg: ta }, () => ta !== UNKNOWN && ta <= 5000000000),
  ]);
}
function cit(f: Record<string, unknown>, period: string): Verdict {
  const y = Number(period);
  const ti = yearly(f, 'taxableIncome', y, isFen);
  return { c: citCond(f, y), amount: () => halfUp(ti === UNKNOWN ? 0 : ti, 20n, 100n) };
}
function sixTaxes(f: Record<string, unknown>, period: string): Verdict {
  const y = Number(period);
  const lt = yearly(f, 'localTaxesDue', y, isFen);
  const vat = fact(f, 'vatTaxpayerType', isVatType);
  const et = fact(f, 'enterpriseType', isEnterpriseType);
  const c = all('six-taxes', [
    leaf('localTaxesDue>0', { localTaxesDue: lt }, () => lt !== UNKNOWN && lt > 0),
    any('qualifying-status', [
      leaf('vat-small-scale', { vatTaxpayerType: vat }, () => vat === 'small-scale'),
      leaf('individual-business', { enterpriseType: et }, () => et === 'individual-business'),
      citCond(f, y),
    ]),
  ]);
  return { c, amount: () => halfUp(lt === UNKNOWN ? 0 : lt, 50n, 100n) };
}
function jobStabilization(f: Record<string, unknown>, period: string): Verdict {
  const y = Number(period);
  const paid = yearly(f, 'uiPremiumsPaid', y, isFen);
  const arrears = yearly(f, 'uiArrears', y, isBool);
  const hc = yearly(f, 'uiInsuredHeadcount', y, isCount);
  const lo = yearly(f, 'uiLayoffs', y, isCount);
  const size = yearly(f, 'enterpriseSize', y, isSize);
  const rateOk = (): boolean => {
    if (hc === UNKNOWN || lo === UNKNOWN) return false;
    const h = BigInt(hc);
    const l = BigInt(lo);
    return hc <= 30 ? l * 100n <= 20n * h : l * 1000n <= 55n * h;
  };
  const c = all('job-stabilization', [
    leaf('uiPremiumsPaid>0', { uiPremiumsPaid: paid }, () => paid !== UNKNOWN && paid > 0),
    leaf('uiArrears-false', { uiArrears: arrears }, () => arrears === false),
    leaf('uiInsuredHeadcount>0', { uiInsuredHeadcount: hc }, () => hc !== UNKNOWN && hc > 0),
    leaf('layoff-rate', { uiLayoffs: lo, uiInsuredHeadcount: hc }, rateOk),
    leaf('enterpriseSize-known', { enterpriseSize: size }, () => true),
  ]);
  return {
    c,
    amount: () => halfUp(paid === UNKNOWN ? 0 : paid, size === 'large' ? 30n : 60n, 100n),
  };
}

export const POLICIES: readonly Policy[] = [
  { id: 'childcare-subsidy', kind: 'person', unit: 'year', from: '2025', to: null, evaluate: childcare },
  { id: 'elderly-allowance', kind: 'person', unit: 'month', from: '2024-01', to: null, evaluate: elderly },
  {
    id: 'disability-nursing-subsidy',
    kind: 'person',
    unit: 'month',
    from: '2024-01',
    to: null,
    evaluate: nursing,
  },
  {
    id: 'disability-living-subsidy',
    kind: 'person',
    unit: 'month',
    from: '2024-01',
    to: null,
    evaluate: living,
  },
  { id: 'small-low-profit-cit', kind: 'enterprise', unit: 'year', from: '2023', to: '2027', evaluate: cit },
  {
    id: 'six-taxes-two-fees',
    kind: 'enterprise',
    unit: 'year',
    from: '2023',
    to: '2027',
    evaluate: sixTaxes,
  },
  {
    id: 'job-stabilization-refund',
    kind: 'enterprise',
    unit: 'year',
    from: '2022',
    to: '2027',
    evaluate: jobStabilization,
  },
];

const YEAR = /^\d{4}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Every policy of the subject's kind and the period's unit, decided for `period` (`YYYY` or `YYYY-MM`). */
export function oracleEvaluate(input: Subject, period: string): OracleRow[] {
  const unit = YEAR.test(period) ? 'year' : MONTH.test(period) ? 'month' : null;
  if (unit === null) throw new Error(`not a period: ${period}`);
  const facts = isPlainObject(input.facts) ? input.facts : {};
  const rows: OracleRow[] = [];
  for (const p of POLICIES) {
    if (p.kind !== input.kind || p.unit !== unit) continue;
    const row: OracleRow = {
      subject: input.subject,
      policy: p.id,
      period,
      outcome: 'not-eligible',
      amount: null,
      reasons: [],
    };
    // Periods of one unit compare as strings (four-digit years, two-digit months).
    if (period < p.from || (p.to !== null && period > p.to)) {
      row.reasons = ['outside-effective-period'];
    } else {
      const { c, amount } = p.evaluate(facts, period);
      if (c.v === true) {
        row.outcome = 'eligible';
        row.amount = amount();
      } else {
        const missing = new Set((c.parts ?? [c]).flatMap((part) => [...kleeneMissing(part)]));
        row.reasons = [...c.failed, ...[...missing].sort().map((m) => `missing-fact:${m}`)];
      }
    }
    rows.push(row);
  }
  return rows;
}
