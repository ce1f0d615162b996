/**
 * fast-check arbitraries of valid raw agency events, shared by the event tests. Subjects come
 * from small pools and times from a few instants written with different offsets, so generated
 * streams are full of the collisions the merge must order (same fact, same instant, other ids).
 */
import fc from 'fast-check';
import { EVENT_ROUTING, type EventType } from '../../../events/schemas.ts';
import { makeCreditCode, makePersonId } from '../../../src/domain/identity.ts';

/** Persons of the pool: valid GB 11643 ids. */
export const PERSONS = [
  makePersonId('110105', '2025-03-10', 24),
  makePersonId('110101', '1940-05-18', 35),
  makePersonId('310115', '1978-09-03', 57),
  makePersonId('110108', '1991-11-02', 13),
];
/** Enterprises of the pool: valid GB 32100 codes. */
export const ENTERPRISES = [
  makeCreditCode('91', '110105', 4812337),
  makeCreditCode('92', '110108', 17209451),
];

const PERSON_TYPES: EventType[] = [
  'person.registered',
  'civil.birth-registered',
  'civil.death-registered',
  'public-security.hukou-moved',
  'dpf.disability-certified',
  'dpf.disability-revoked',
  'civil.dibao-status-changed',
];
const ENTERPRISE_TYPES: EventType[] = [
  'samr.business-registered',
  'tax.vat-status-changed',
  'tax.annual-cit-assessed',
  'tax.local-taxes-assessed',
  'hrss.ui-annual-summary',
];

/** A real calendar date between 1930 and 2030. */
export const calendarDate = fc
  .date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const region = fc.constantFrom('110105', '110101', '110108', '310115', '440106');
const year = fc.integer({ min: 2023, max: 2026 });
const fen = fc.integer({ min: 0, max: 5_000_000_000 });
const count = fc.integer({ min: 0, max: 900 });

/** One of five instants, written in one of several offsets (the same instant, different strings). */
export const occurredAt = fc
  .tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(480, 0, -300, 330))
  .map(([i, offsetMinutes]) => {
    const epoch = Date.UTC(2025, 5, 1, 2, 0, 0) + i * 3_600_000;
    const local = new Date(epoch + offsetMinutes * 60_000).toISOString().slice(0, 19);
    if (offsetMinutes === 0) return `${local}Z`;
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  });

function dataFor(type: EventType): fc.Arbitrary<Record<string, unknown>> {
  switch (type) {
    case 'person.registered':
      return fc.record({ birthDate: calendarDate, hukouRegion: region });
    case 'civil.birth-registered':
      return fc.record({
        birthDate: calendarDate,
        hukouRegion: region,
        guardians: fc.uniqueArray(fc.constantFrom(...PERSONS), { minLength: 1, maxLength: 4 }),
      });
    case 'civil.death-registered':
      return fc.record({ deathDate: calendarDate });
    case 'public-security.hukou-moved':
      return fc.record({ hukouRegion: region });
    case 'dpf.disability-certified':
      return fc.record({
        level: fc.integer({ min: 1, max: 4 }),
        validUntil: fc.option(calendarDate, { nil: null }),
      });
    case 'dpf.disability-revoked':
      return fc.record({ revokedOn: calendarDate });
    case 'civil.dibao-status-changed':
      return fc.record({ enrolled: fc.boolean() });
    case 'samr.business-registered':
      return fc.record({ enterpriseType: fc.constantFrom('company', 'individual-business'), region });
    case 'tax.vat-status-changed':
      return fc.record({ vatTaxpayerType: fc.constantFrom('small-scale', 'general') });
    case 'tax.annual-cit-assessed':
      return fc.record({
        taxYear: year,
        taxableIncome: fc.integer({ min: -500_000_000, max: 900_000_000 }),
        employeesAvg: count,
        totalAssetsAvg: fen,
        industryRestricted: fc.boolean(),
      });
    case 'tax.local-taxes-assessed':
      return fc.record({ taxYear: year, localTaxesDue: fen });
    case 'hrss.ui-annual-summary':
      return fc.record({
        year,
        premiumsPaid: fen,
        insuredHeadcount: count,
        layoffs: count,
        arrears: fc.boolean(),
        enterpriseSize: fc.constantFrom('large', 'medium', 'small', 'micro'),
      });
  }
}

/** A raw event object of a given type (valid), without its id. */
export const eventOfType = (type: EventType) => {
  const { source, kind } = EVENT_ROUTING[type];
  return fc
    .record({
      occurredAt,
      subject: fc.constantFrom(...(kind === 'person' ? PERSONS : ENTERPRISES)),
      data: dataFor(type),
    })
    .map(({ occurredAt, subject, data }) => ({
      type,
      schemaVersion: 1,
      source,
      occurredAt,
      subject: { kind, id: subject },
      data,
    }));
};

/** A valid raw event object of any type, with an id from `prefix` (ids short, to collide in order). */
export const anyEvent = fc
  .tuple(fc.constantFrom(...PERSON_TYPES, ...ENTERPRISE_TYPES), fc.constantFrom('a', 'b', 'tax-1', 'Z'))
  .chain(([type, prefix]) => eventOfType(type).map((e) => ({ id: prefix, ...e })));

/** A valid stream: events with unique ids (the contract: one id, one body). */
export const stream = fc
  .array(anyEvent, { minLength: 1, maxLength: 40 })
  .map((events) => events.map((e, i) => ({ ...e, id: `${e.id}.${(i * 7919) % 1000}` })));
