/**
 * Compiled base-fact readers: one closure per catalogue fact, doing exactly what `readFact` of the
 * catalogue does (own property, per-year object, `null` or a value of the wrong type = unknown) but
 * without regular expressions or `Date` objects on the hot path, because a population run reads
 * every fact of every subject.
 */
import { type FactDefinition, type FactType, factKey } from '../../facts/catalogue.ts';

/** The value of an unknown fact. A symbol, so no fact value can ever be mistaken for it. */
export const UNKNOWN: unique symbol = Symbol('unknown');

/**
 * A fact present with a value of the wrong type: unknown too, but never read as "absent" (alive,
 * no expiry), as `readFact` marks it `invalid`.
 */
export const INVALID: unique symbol = Symbol('invalid');

/** A read fact value, or UNKNOWN, or INVALID (the only symbols a reader returns). */
export type Read = unknown;

/** True when a read value is UNKNOWN or INVALID (no valid fact value is a symbol). */
export const isMissing = (v: Read): v is typeof UNKNOWN | typeof INVALID => typeof v === 'symbol';

/** True when a value fits a fact type; identical to `checkFactValue(type, v) === undefined`. */
export type TypeCheck = (v: unknown) => boolean;

/** Days of each month of a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/**
 * `isCalendarDate` without a regular expression or a `Date`. It keeps one quirk of the original on
 * purpose: `Date.UTC` maps the years 0..99 to 1900..1999, so the original refuses `0000`..`0099`,
 * and so must this, or the two evaluators would disagree on such a date.
 */
export function fastIsCalendarDate(s: unknown): boolean {
  if (typeof s !== 'string' || s.length !== 10) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y0 = digit(s, 0);
  const y1 = digit(s, 1);
  const y2 = digit(s, 2);
  const y3 = digit(s, 3);
  const m0 = digit(s, 5);
  const m1 = digit(s, 6);
  const d0 = digit(s, 8);
  const d1 = digit(s, 9);
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return false;
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (y < 100 || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!;
  return d <= max;
}

const isSixDigits = (v: unknown): boolean => {
  if (typeof v !== 'string' || v.length !== 6) return false;
  for (let i = 0; i < 6; i++) if (digit(v, i) < 0) return false;
  return true;
};

/** The type check of a catalogue type, as one closure. */
export function compileTypeCheck(type: FactType): TypeCheck {
  switch (type.kind) {
    case 'date':
      return fastIsCalendarDate;
    case 'region':
      return isSixDigits;
    case 'person-ids':
      return (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);
    case 'integer': {
      const min = type.min ?? Number.NEGATIVE_INFINITY;
      const max = type.max ?? Number.POSITIVE_INFINITY;
      return (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
    }
    case 'fen':
      return (v) => typeof v === 'number' && Number.isSafeInteger(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'enum': {
      const values = type.values;
      return (v) => typeof v === 'string' && values.includes(v);
    }
  }
}

/**
 * Reads one base fact of one subject for a year: value, UNKNOWN or INVALID. The year is a number:
 * `byYear[2025]` is the same property as `byYear["2025"]`, found without parsing the text.
 */
export type BaseReader = (facts: Record<string, unknown>, year: number) => Read;

/**
 * The reader of a catalogue fact. `undefined` is tested before `Object.hasOwn` because it is the
 * common case of an absent fact and no catalogue name lives on `Object.prototype`; a defined value
 * is still checked to be an own property, as `readFact` does.
 */
export function compileBaseReader(def: FactDefinition | undefined): BaseReader {
  if (!def) return () => UNKNOWN;
  const name = def.name;
  const check = compileTypeCheck(def.type);
  if (!def.perYear) {
    const readPlain: BaseReader = (facts) => {
      const raw = facts[name];
      if (raw === undefined || raw === null || !Object.hasOwn(facts, name)) return UNKNOWN;
      return check(raw) ? raw : INVALID;
    };
    return readPlain;
  }
  const readPerYear: BaseReader = (facts, year) => {
    const byYear = facts[name];
    if (byYear === undefined || byYear === null || !Object.hasOwn(facts, name)) return UNKNOWN;
    if (typeof byYear !== 'object' || Array.isArray(byYear)) return INVALID;
    const raw = (byYear as Record<number, unknown>)[year];
    if (raw === undefined || raw === null || !Object.hasOwn(byYear, year)) return UNKNOWN;
    return check(raw) ? raw : INVALID;
  };
  return readPerYear;
}

/** The key a fact is recorded under in `factsUsed` (`name`, or `name#YYYY` for per-year facts). */
export const keyOf = (name: string, year: number): string => factKey(name, year);
