/**
 * The fact catalogue of benefits.md: every fact a rule may read, its type, the kind of subject it
 * describes, whether it holds one value per year, and its sensitivity (what a reviewer may see).
 * Rule validation, input validation and explanation masking all read this one table.
 */
import type { FactValues, SubjectKind } from '../types.ts';
import { isCalendarDate as isCivilDate } from '../events/time.ts';

/** Who may see a value in a decision record: public/internal shown, restricted/secret only compared. */
export type Sensitivity = 'public' | 'internal' | 'restricted' | 'secret';

/** The value type of a fact, as the evaluators read it. */
export type FactType =
  | { kind: 'date' }
  | { kind: 'region' }
  | { kind: 'person-ids' }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'fen' }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] };

/** One entry of the catalogue. */
export interface FactDefinition {
  name: string;
  type: FactType;
  subjectKind: SubjectKind;
  /** Holds one value per year (`{"2025": …}`); a missing year is an unknown fact. */
  perYear: boolean;
  sensitivity: Sensitivity;
  /**
   * Set for the facts benefits.md types "… or absent": absence is itself a value (no death date =
   * alive, no level = no disability certificate, no expiry = valid for ever). Such a fact is
   * reported as `missing-fact` only when present with a malformed value; every other absent fact
   * is unknown.
   */
  absentMeans?: string;
  meaning: string;
}

const def = (d: FactDefinition): FactDefinition => d;

/** Every base fact of benefits.md, in the order of its tables. */
export const FACTS: readonly FactDefinition[] = [
  def({
    name: 'birthDate',
    type: { kind: 'date' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'restricted',
    meaning: 'date of birth',
  }),
  def({
    name: 'deathDate',
    type: { kind: 'date' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'restricted',
    absentMeans: 'alive',
    meaning: 'date of death',
  }),
  def({
    name: 'hukouRegion',
    type: { kind: 'region' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'internal',
    meaning: 'household-registration region code (GB/T 2260)',
  }),
  def({
    name: 'guardians',
    type: { kind: 'person-ids' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'restricted',
    meaning: 'guardians of a minor, notified for the minor',
  }),
  def({
    name: 'disabilityLevel',
    type: { kind: 'integer', min: 1, max: 4 },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'secret',
    absentMeans: 'no certificate',
    meaning: 'level on the disability certificate (1 most severe)',
  }),
  def({
    name: 'disabilityCertValidUntil',
    type: { kind: 'date' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'internal',
    absentMeans: 'no expiry',
    meaning: 'certificate expiry',
  }),
  def({
    name: 'dibaoEnrolled',
    type: { kind: 'boolean' },
    subjectKind: 'person',
    perYear: false,
    sensitivity: 'secret',
    meaning: 'enrolled in the minimum living allowance',
  }),
  def({
    name: 'enterpriseType',
    type: { kind: 'enum', values: ['company', 'individual-business'] },
    subjectKind: 'enterprise',
    perYear: false,
    sensitivity: 'public',
    meaning: 'company, or individual business',
  }),
  def({
    name: 'vatTaxpayerType',
    type: { kind: 'enum', values: ['small-scale', 'general'] },
    subjectKind: 'enterprise',
    perYear: false,
    sensitivity: 'internal',
    meaning: 'VAT taxpayer status',
  }),
  def({
    name: 'industryRestricted',
    type: { kind: 'boolean' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'engaged in a restricted or prohibited industry',
  }),
  def({
    name: 'taxableIncome',
    type: { kind: 'fen' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'restricted',
    meaning: 'annual taxable income',
  }),
  def({
    name: 'employeesAvg',
    type: { kind: 'integer', min: 0 },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'average number of employees over the year',
  }),
  def({
    name: 'totalAssetsAvg',
    type: { kind: 'fen' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'restricted',
    meaning: 'average total assets over the year',
  }),
  def({
    name: 'localTaxesDue',
    type: { kind: 'fen' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'restricted',
    meaning: 'the six taxes and two fees due before any reduction',
  }),
  def({
    name: 'enterpriseSize',
    type: { kind: 'enum', values: ['large', 'medium', 'small', 'micro'] },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'enterprise size class',
  }),
  def({
    name: 'uiPremiumsPaid',
    type: { kind: 'fen' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'restricted',
    meaning: 'unemployment-insurance premiums actually paid',
  }),
  def({
    name: 'uiInsuredHeadcount',
    type: { kind: 'integer', min: 0 },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'insured employees at the start of the year',
  }),
  def({
    name: 'uiLayoffs',
    type: { kind: 'integer', min: 0 },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'insured employees laid off during the year',
  }),
  def({
    name: 'uiArrears',
    type: { kind: 'boolean' },
    subjectKind: 'enterprise',
    perYear: true,
    sensitivity: 'internal',
    meaning: 'premiums in arrears at the end of the year',
  }),
];

const BY_NAME = new Map(FACTS.map((f) => [f.name, f]));

/** The catalogue entry of a base fact, or undefined when the name is not in benefits.md. */
export function factDefinition(name: string): FactDefinition | undefined {
  return BY_NAME.get(name);
}

/** Names of every per-year fact of a subject kind. */
export function perYearFacts(kind: SubjectKind): string[] {
  return FACTS.filter((f) => f.perYear && f.subjectKind === kind).map((f) => f.name);
}

/** The storage key of a fact for a year: `name` for plain facts, `name#YYYY` for per-year facts. */
export function factKey(name: string, year: number | string): string {
  const d = BY_NAME.get(name);
  return d?.perYear ? `${name}#${year}` : name;
}

/** A fact read for one period: its key, and its value when known. */
export interface FactReading {
  key: string;
  known: boolean;
  value: unknown;
  /** Present but not of the fact's type: unknown, and never read as "absent" (alive, no expiry). */
  invalid?: boolean;
}

/**
 * Reads a base fact for a year. `null` counts as absent (events use `null` for "no expiry"), and so
 * does a value of the wrong type: a value we cannot trust must never grant.
 */
export function readFact(facts: FactValues, name: string, year: number): FactReading {
  const d = BY_NAME.get(name);
  const key = factKey(name, year);
  if (!d || !Object.hasOwn(facts, name)) return { key, known: false, value: undefined };
  let raw: unknown = facts[name];
  if (d.perYear) {
    if (raw === null) return { key, known: false, value: undefined };
    if (typeof raw !== 'object' || Array.isArray(raw))
      return { key, known: false, value: undefined, invalid: true };
    const y = String(year);
    raw = Object.hasOwn(raw, y) ? (raw as Record<string, unknown>)[y] : undefined;
  }
  if (raw === undefined || raw === null) return { key, known: false, value: undefined };
  if (checkFactValue(d.type, raw) !== undefined)
    return { key, known: false, value: undefined, invalid: true };
  return { key, known: true, value: raw };
}

/**
 * True when `s` is a real calendar date written `YYYY-MM-DD` (proleptic Gregorian, years 0000–9999;
 * the event contract's own check, without `Date`, which maps the years 0–99 to 1900–1999).
 */
export function isCalendarDate(s: unknown): s is string {
  return typeof s === 'string' && isCivilDate(s);
}

/** A whole number JSON can carry but a double cannot hold exactly (beyond ±(2^53 − 1)). */
const TOO_LARGE = 'is a whole number too large to be read exactly (beyond ±9007199254740991)';
const unsafe = (v: unknown): boolean => Number.isInteger(v) && !Number.isSafeInteger(v);

/** Why a value does not fit a fact type, or undefined when it fits. */
export function checkFactValue(type: FactType, v: unknown): string | undefined {
  switch (type.kind) {
    case 'date':
      return isCalendarDate(v) ? undefined : 'must be a calendar date YYYY-MM-DD';
    case 'region':
      return typeof v === 'string' && /^\d{6}$/.test(v) ? undefined : 'must be a 6-digit region code';
    case 'person-ids':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0)
        ? undefined
        : 'must be a list of person ids';
    case 'integer': {
      if (unsafe(v)) return TOO_LARGE;
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return 'must be a whole number';
      if (type.min !== undefined && v < type.min) return `must be at least ${type.min}`;
      if (type.max !== undefined && v > type.max) return `must be at most ${type.max}`;
      return undefined;
    }
    case 'fen':
      if (unsafe(v)) return TOO_LARGE;
      return typeof v === 'number' && Number.isSafeInteger(v) ? undefined : 'must be a whole number of fen';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'enum':
      return typeof v === 'string' && type.values.includes(v)
        ? undefined
        : `must be one of ${type.values.join(', ')}`;
  }
}

/**
 * Checks the `facts` object of one input profile against the catalogue: one message per value of
 * the wrong type or shape. Names outside the catalogue, or of the other subject kind, are ignored
 * (they cannot take part in any rule). `null` is accepted as absent.
 */
export function checkFactValues(kind: SubjectKind, facts: FactValues): string[] {
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(facts)) {
    const d = BY_NAME.get(name);
    if (!d || d.subjectKind !== kind || raw === null) continue;
    if (d.perYear) {
      if (typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push(`fact ${name} is per year: give an object keyed by year, e.g. {"2025": …}`);
        continue;
      }
      for (const [y, v] of Object.entries(raw as Record<string, unknown>)) {
        if (!/^\d{4}$/.test(y)) problems.push(`fact ${name}: '${y}' is not a year YYYY`);
        else if (v !== null) {
          const why = checkFactValue(d.type, v);
          if (why) problems.push(`fact ${name} for ${y} ${why}`);
        }
      }
    } else {
      const why = checkFactValue(d.type, raw);
      if (why) problems.push(`fact ${name} ${why}`);
    }
  }
  return problems;
}
