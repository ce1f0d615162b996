/**
 * A synthetic agency-event stream for load tests and demos: valid events of every type, a
 * realistic mix of subjects, and eligibility rates of the order the real policies would see.
 * Reproducible: the same options give byte-identical output. Lazy: events are produced one at a
 * time, so a stream of millions never sits in memory (only a set of used person ids does).
 */
import { createHash } from 'node:crypto';
import { EVENT_ROUTING, type EventType } from '../../../events/schemas.ts';
import { makeCreditCode, makePersonId } from '../identity.ts';
import { daysFromCivil, daysInMonth } from './time.ts';

/** What to generate. */
export interface GenerateOptions {
  persons: number;
  enterprises: number;
  /** Any string; the same seed gives the same stream. */
  seed: string;
  /** The year the per-year facts are about (tax year, premium year); default 2025. */
  year?: number;
}

/** A seeded PRNG (sfc32): fast, good enough for test data, and the same on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from any string through SHA-256, so similar seeds give unrelated streams. */
  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }

  /** An integer spread log-uniformly over [min, max] (min >= 1): most values small, a long tail. */
  logInt(min: number, max: number): number {
    return Math.min(
      max,
      Math.floor(Math.exp(Math.log(min) + this.next() * (Math.log(max + 1) - Math.log(min)))),
    );
  }
}

const BEIJING = [
  '110101',
  '110102',
  '110105',
  '110106',
  '110107',
  '110108',
  '110109',
  '110111',
  '110112',
  '110113',
  '110114',
  '110115',
  '110116',
  '110117',
  '110118',
  '110119',
] as const;
const ELSEWHERE = ['310101', '310115', '440106', '320102', '510104', '130102', '120101'] as const;
const REGIONS = [...BEIJING, ...ELSEWHERE];

const ABBR: Record<string, string> = {
  'public-security': 'ps',
  'civil-affairs': 'ca',
  dpf: 'dpf',
  tax: 'tax',
  hrss: 'hrss',
  samr: 'samr',
};

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** CNY to fen. */
const cny = (yuan: number) => yuan * 100;

/**
 * Generates the stream, one JSON line (without newline) at a time: first the persons, each with
 * all of its events, then the enterprises.
 */
export function* generateEvents(options: GenerateOptions): Generator<string> {
  const { persons, enterprises, seed } = options;
  const year = options.year ?? 2025;
  const rng = new Rng(seed);
  const tag = createHash('sha256').update(seed).digest('hex').slice(0, 6);
  let counter = 0;

  const date = (y: number, m = rng.int(1, 12), d = rng.int(1, daysInMonth(y, m))) =>
    `${y}-${pad(m)}-${pad(d)}`;
  /** A date-time in China Standard Time on a random day between two dates, office hours. */
  const at = (from: string, to: string): string => {
    const [f, t] = [from, to].map((s) =>
      daysFromCivil(Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8))),
    );
    const day = rng.int(f!, t!);
    const { y, m, d } = civilFromDays(day);
    return `${y}-${pad(m)}-${pad(d)}T${pad(rng.int(8, 17))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}+08:00`;
  };
  const event = (type: EventType, occurredAt: string, subject: string, data: Record<string, unknown>) => {
    const { source, kind } = EVENT_ROUTING[type];
    counter++;
    const id = `${ABBR[source]}-${tag}-${pad(counter, 9)}`;
    return JSON.stringify({
      id,
      type,
      schemaVersion: 1,
      source,
      occurredAt,
      subject: { kind, id: subject },
      data,
    });
  };

  // Person ids must be unique; a packed number per id keeps the memory small for millions.
  const used = new Set<number>();
  const personId = (region: string, birthDate: string): string => {
    const r = REGIONS.indexOf(region as (typeof REGIONS)[number]);
    const days = daysFromCivil(
      Number(birthDate.slice(0, 4)),
      Number(birthDate.slice(5, 7)),
      Number(birthDate.slice(8)),
    );
    let seq = rng.int(0, 999);
    for (let tries = 0; tries < 1000; tries++, seq = (seq + 1) % 1000) {
      // Region index, day number (offset to be non-negative, < 2^17) and sequence, packed.
      const key = (r * 131_072 + days + 30_000) * 1000 + seq;
      if (!used.has(key)) {
        used.add(key);
        return makePersonId(region, birthDate, seq);
      }
    }
    throw new Error(`more than 1000 people born ${birthDate} in ${region}`);
  };
  const region = () => (rng.chance(0.85) ? rng.pick(BEIJING) : rng.pick(ELSEWHERE));
  const birthForAge = (age: number) => date(year - age);
  const adults: string[] = [];

  for (let i = 0; i < persons; i++) {
    const r = rng.next();
    const hukou = region();
    const registeredAt = () => at(`${year - 1}-06-01`, `${year - 1}-12-31`);
    // The first persons are adults, so that every child has guardians from the stream.
    if (r < 0.08 && adults.length >= 2) {
      // Born in the last three years, and registered before the year ends.
      const birthYear = rng.int(year - 3, year);
      const birthDate = date(birthYear, rng.int(1, birthYear === year ? 11 : 12));
      const id = personId(hukou, birthDate);
      const g1 = rng.pick(adults);
      const g2 = rng.pick(adults);
      const guardians = rng.chance(0.85) && g2 !== g1 ? [g1, g2] : [g1];
      yield event('civil.birth-registered', at(birthDate, `${birthYear}-12-31`), id, {
        birthDate,
        hukouRegion: hukou,
        guardians,
      });
      continue;
    }
    if (r < 0.2) {
      const birthDate = birthForAge(rng.int(75, 102));
      const id = personId(hukou, birthDate);
      yield event('person.registered', registeredAt(), id, { birthDate, hukouRegion: hukou });
      if (rng.chance(0.1)) {
        const deathDate = date(year);
        yield event('civil.death-registered', at(deathDate, `${year}-12-31`), id, { deathDate });
      }
      continue;
    }
    const age = rng.int(18, 70);
    const birthDate = birthForAge(age);
    const id = personId(hukou, birthDate);
    yield event('person.registered', registeredAt(), id, { birthDate, hukouRegion: hukou });
    // Recent adults of parenting age become the guardians of the next children.
    if (age >= 22 && age <= 45) {
      if (adults.length < 64) adults.push(id);
      else adults[rng.int(0, 63)] = id;
    }
    if (r < 0.26) {
      const level = rng.pick([1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4]);
      const v = rng.next();
      const validUntil = v < 0.2 ? null : v < 0.9 ? date(rng.int(year + 1, year + 5)) : date(year - 1);
      yield event('dpf.disability-certified', at(`${year - 3}-01-01`, `${year - 1}-12-31`), id, {
        level,
        validUntil,
      });
      if (rng.chance(0.35)) {
        yield event('civil.dibao-status-changed', at(`${year - 1}-01-01`, `${year}-06-30`), id, {
          enrolled: true,
        });
      }
      if (rng.chance(0.1)) {
        const revokedOn = date(year);
        yield event('dpf.disability-revoked', at(revokedOn, `${year}-12-31`), id, { revokedOn });
      }
    } else if (r < 0.29) {
      yield event('civil.dibao-status-changed', at(`${year - 1}-01-01`, `${year}-03-31`), id, {
        enrolled: true,
      });
      if (rng.chance(0.2)) {
        yield event('civil.dibao-status-changed', at(`${year}-04-01`, `${year}-12-31`), id, {
          enrolled: false,
        });
      }
    } else if (r < 0.34) {
      yield event('public-security.hukou-moved', at(`${year}-01-01`, `${year}-12-31`), id, {
        hukouRegion: region(),
      });
    }
  }

  // Unique credit codes: serial = a fixed bijection of the index modulo 31^9.
  const M = 31n ** 9n;
  const offset = BigInt(rng.int(0, 2 ** 30));
  for (let i = 0; i < enterprises; i++) {
    const serial = Number((BigInt(i) * 2_654_435_761n + offset) % M);
    const isCompany = rng.chance(0.7);
    const where = region();
    const id = makeCreditCode(isCompany ? '91' : '92', where, serial);
    yield event('samr.business-registered', at('2005-01-01', `${year - 1}-12-31`), id, {
      enterpriseType: isCompany ? 'company' : 'individual-business',
      region: where,
    });
    const smallScale = rng.chance(isCompany ? 0.55 : 0.95);
    yield event('tax.vat-status-changed', at('2010-01-01', `${year - 1}-12-31`), id, {
      vatTaxpayerType: smallScale ? 'small-scale' : 'general',
    });
    const filing = () => at(`${year + 1}-03-01`, `${year + 1}-05-31`);
    if (isCompany && rng.chance(0.92)) {
      const cit = () => {
        const k = rng.next();
        const taxableIncome =
          k < 0.12
            ? -cny(rng.logInt(1_000, 5_000_000))
            : k < 0.75
              ? cny(rng.logInt(10_000, 3_000_000))
              : cny(rng.logInt(3_000_001, 50_000_000));
        return {
          taxYear: year,
          taxableIncome,
          employeesAvg: rng.logInt(1, 600),
          totalAssetsAvg: cny(rng.logInt(1_000_000, 100_000_000)),
          industryRestricted: rng.chance(0.03),
        };
      };
      yield event('tax.annual-cit-assessed', filing(), id, cit());
      // A few assessments are corrected later: the later one must win wherever it lands.
      if (rng.chance(0.05))
        yield event('tax.annual-cit-assessed', at(`${year + 1}-06-01`, `${year + 1}-09-30`), id, cit());
    }
    if (rng.chance(0.85)) {
      yield event('tax.local-taxes-assessed', filing(), id, {
        taxYear: year,
        localTaxesDue: rng.chance(0.1) ? 0 : cny(rng.logInt(1_000, 500_000)),
      });
    }
    if (rng.chance(isCompany ? 0.8 : 0.3)) {
      const insuredHeadcount = rng.logInt(1, 800);
      const layoffs = rng.chance(0.7) ? 0 : rng.int(1, Math.max(1, Math.ceil(insuredHeadcount * 0.15)));
      const enterpriseSize =
        insuredHeadcount < 10
          ? 'micro'
          : insuredHeadcount < 100
            ? 'small'
            : insuredHeadcount < 300
              ? 'medium'
              : 'large';
      yield event('hrss.ui-annual-summary', at(`${year + 1}-01-15`, `${year + 1}-03-31`), id, {
        year,
        premiumsPaid: rng.chance(0.03) ? 0 : insuredHeadcount * rng.int(60_000, 120_000),
        insuredHeadcount,
        layoffs,
        arrears: rng.chance(0.06),
        enterpriseSize,
      });
    }
  }
}

/** The civil date of a day count since 1970-01-01 (Hinnant's civil_from_days). */
function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}
