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

/** `isCalendarDate` of the catalogue without a regular expression. */
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
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1]!;
  return d <= max;
}

const isSixDigits = (v: unknown): boolean => {
  if (typeof v !== 'string' || v.length !== 6) return false;
  for (let i = 0; i < 6; i++) if (digit(v, i) < 0) return false;
  return true;
};

/** `values.includes(s)` for a string, as a loop the compiler inlines. */
const oneOf = (values: readonly string[], s: string): boolean => {
  for (let i = 0; i < values.length; i++) if (values[i] === s) return true;
  return false;
};

const isPersonIds = (v: unknown): boolean =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0);

/** The type check of a catalogue type, as one closure. */
export function compileTypeCheck(type: FactType): TypeCheck {
  switch (type.kind) {
    case 'date':
      return fastIsCalendarDate;
    case 'region':
      return isSixDigits;
    case 'person-ids':
      return isPersonIds;
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

const NO_FACT = 0;
const DATE = 1;
const REGION = 2;
const PERSON_IDS = 3;
/** `integer` and `fen` (a safe integer within [min, max]; a fen has no bounds). */
const INTEGER = 4;
const BOOLEAN = 5;
const ENUM = 6;

const OBJECT_PROTOTYPE: object = Object.prototype;
const { getPrototypeOf, hasOwn, isExtensible } = Object;

/**
 * True when `Object.prototype` holds the year as a property of its own (nobody does that, but an
 * input can be read in a process that did). Checked once per evaluation call: while it is false, a
 * per-year object whose prototype is `Object.prototype` (or none) can only have found `byYear[year]`
 * among its own properties, and the second dictionary lookup of `Object.hasOwn` is saved.
 */
export const yearInherited = (year: number): boolean => hasOwn(OBJECT_PROTOTYPE, year);

/** One slot of a fact table: everything `read` needs about its fact, in one object. */
class Slot {
  constructor(
    readonly name: string,
    readonly kind: number,
    readonly perYear: boolean,
    readonly min: number,
    readonly max: number,
    readonly values: readonly string[],
  ) {}
}

/**
 * The base facts a compiled policy set reads, one slot each, and the one reader of all of them: a
 * single function with a switch on the fact's type instead of a closure per fact, so every read
 * goes through the same monomorphic call (and type checks are inlined, not called through a
 * polymorphic site). `read` is exactly `readFact` of the catalogue: own property, per-year object,
 * `null` or a value of the wrong type = unknown.
 */
export class FactTable {
  private readonly slots: Slot[] = [];

  /** The number of slots. */
  get size(): number {
    return this.slots.length;
  }

  /** Adds a fact (or an unknown name, always UNKNOWN) and returns its slot. */
  add(name: string, def: FactDefinition | undefined): number {
    const slot = this.slots.length;
    let kind = NO_FACT;
    let min = Number.NEGATIVE_INFINITY;
    let max = Number.POSITIVE_INFINITY;
    let values: readonly string[] = [];
    if (def) {
      const t = def.type;
      switch (t.kind) {
        case 'date':
          kind = DATE;
          break;
        case 'region':
          kind = REGION;
          break;
        case 'person-ids':
          kind = PERSON_IDS;
          break;
        case 'integer':
          kind = INTEGER;
          min = t.min ?? min;
          max = t.max ?? max;
          break;
        case 'fen':
          kind = INTEGER;
          break;
        case 'boolean':
          kind = BOOLEAN;
          break;
        case 'enum':
          kind = ENUM;
          values = t.values;
          break;
      }
    }
    this.slots.push(new Slot(name, kind, def?.perYear ?? false, min, max, values));
    return slot;
  }

  /**
   * Reads the fact of `slot`. `inherited` is `yearInherited(year)`, computed by the caller once per
   * evaluation. `undefined` is tested before `Object.hasOwn` because it is the common case of an
   * absent fact and no catalogue name lives on `Object.prototype`; a defined value is still checked
   * to be an own property, as `readFact` does, unless `ownSafe` (`FactTable.ownSafe(facts)`) says no
   * inherited value can be found there.
   */
  read(
    facts: Record<string, unknown>,
    slot: number,
    year: number,
    inherited: boolean,
    ownSafe = false,
  ): Read {
    const d = this.slots[slot]!;
    const kind = d.kind;
    if (kind === NO_FACT) return UNKNOWN;
    let raw = facts[d.name];
    if (raw === undefined || raw === null || (!ownSafe && !hasOwn(facts, d.name))) return UNKNOWN;
    if (d.perYear) {
      if (typeof raw !== 'object' || Array.isArray(raw)) return INVALID;
      const byYear = raw as Record<number, unknown>;
      raw = byYear[year];
      if (raw === undefined || raw === null) return UNKNOWN;
      const proto = getPrototypeOf(byYear);
      if (!(proto === null || (proto === OBJECT_PROTOTYPE && !inherited)) && !hasOwn(byYear, year))
        return UNKNOWN;
    }
    switch (kind) {
      case INTEGER:
        return typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= d.min && raw <= d.max
          ? raw
          : INVALID;
      case BOOLEAN:
        return typeof raw === 'boolean' ? raw : INVALID;
      case ENUM:
        return typeof raw === 'string' && oneOf(d.values, raw) ? raw : INVALID;
      case DATE:
        return fastIsCalendarDate(raw) ? raw : INVALID;
      case REGION:
        return isSixDigits(raw) ? raw : INVALID;
      default:
        return isPersonIds(raw) ? raw : INVALID;
    }
  }

  /**
   * True when a defined `facts[name]` of any slot can only be an own property of `facts`, so `read`
   * may skip `Object.hasOwn`: the object inherits from `Object.prototype` (or nothing), and
   * `Object.prototype` can no longer gain properties (`Object.preventExtensions`, see
   * `lockObjectPrototype`) and had none of the fact names when that was first seen. Checked once
   * per evaluation call; the names are checked again only when slots were added.
   */
  ownSafe(facts: unknown): boolean {
    if (facts === null || typeof facts !== 'object') return false;
    const proto = getPrototypeOf(facts);
    if (proto !== OBJECT_PROTOTYPE && proto !== null) return false;
    if (proto === null) return true;
    if (this.cleanFor === this.slots.length) return true;
    if (isExtensible(OBJECT_PROTOTYPE)) return false;
    for (const d of this.slots) if (hasOwn(OBJECT_PROTOTYPE, d.name)) return false;
    this.cleanFor = this.slots.length;
    return true;
  }

  /** The number of names known absent from a non-extensible `Object.prototype`, or -1. */
  private cleanFor = -1;
}

/**
 * Makes `Object.prototype` non-extensible, so no property can ever be added to it (prototype
 * pollution through a crafted input becomes impossible in this process) and the compiled evaluator
 * can skip its own-property checks (see `FactTable.ownSafe`). Existing properties are untouched,
 * so assigning `toString` on an object still works. Population commands call it once at start,
 * after every module is loaded; idempotent.
 */
export function lockObjectPrototype(): void {
  Object.preventExtensions(OBJECT_PROTOTYPE);
}

/** The reader of one catalogue fact (the fact table's read, for one fact). */
export function compileBaseReader(def: FactDefinition | undefined): BaseReader {
  const table = new FactTable();
  const slot = table.add(def?.name ?? '', def);
  return (facts, year) => table.read(facts, slot, year, yearInherited(year));
}

/** The key a fact is recorded under in `factsUsed` (`name`, or `name#YYYY` for per-year facts). */
export const keyOf = (name: string, year: number): string => factKey(name, year);
