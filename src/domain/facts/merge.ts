/**
 * From events to facts (events.md, "From events to facts"): which facts each event sets, and the
 * merge that makes a profile independent of arrival order and repetition. Pure, no I/O.
 */
import { compareInstants, parseOffsetDateTime } from '../events/time.ts';
import type { PseudonymousEvent } from '../pseudonym.ts';
import type { FactRecord, FactValues, StoredFacts } from '../types.ts';
import { factDefinition } from './catalogue.ts';

/** One fact an event sets: its storage key (`name` or `name#YYYY`) and the record to merge. */
export interface FactUpdate {
  key: string;
  record: FactRecord;
}

/**
 * The facts an accepted, pseudonymised event sets, per the table of events.md. A record whose
 * `value` is undefined clears the fact (a revoked disability, a certificate without expiry).
 */
export function factUpdates(event: PseudonymousEvent): FactUpdate[] {
  const provenance = { eventId: event.id, source: event.source, occurredAt: event.occurredAt };
  const set = (key: string, value: unknown): FactUpdate => ({ key, record: { ...provenance, value } });
  const clear = (key: string): FactUpdate => ({ key, record: { ...provenance } });
  switch (event.type) {
    case 'person.registered':
      return [set('birthDate', event.data.birthDate), set('hukouRegion', event.data.hukouRegion)];
    case 'civil.birth-registered':
      return [
        set('birthDate', event.data.birthDate),
        set('hukouRegion', event.data.hukouRegion),
        set('guardians', [...event.data.guardians]),
      ];
    case 'civil.death-registered':
      return [set('deathDate', event.data.deathDate)];
    case 'public-security.hukou-moved':
      return [set('hukouRegion', event.data.hukouRegion)];
    case 'dpf.disability-certified':
      // validUntil null means no expiry: the fact is absent, and must replace an older expiry.
      return [
        set('disabilityLevel', event.data.level),
        event.data.validUntil === null
          ? clear('disabilityCertValidUntil')
          : set('disabilityCertValidUntil', event.data.validUntil),
      ];
    case 'dpf.disability-revoked':
      return [clear('disabilityLevel')];
    case 'civil.dibao-status-changed':
      return [set('dibaoEnrolled', event.data.enrolled)];
    case 'samr.business-registered':
      // `region` is not a catalogue fact: no rule reads it, so it is not kept.
      return [set('enterpriseType', event.data.enterpriseType)];
    case 'tax.vat-status-changed':
      return [set('vatTaxpayerType', event.data.vatTaxpayerType)];
    case 'tax.annual-cit-assessed': {
      const y = event.data.taxYear;
      return [
        set(`taxableIncome#${y}`, event.data.taxableIncome),
        set(`employeesAvg#${y}`, event.data.employeesAvg),
        set(`totalAssetsAvg#${y}`, event.data.totalAssetsAvg),
        set(`industryRestricted#${y}`, event.data.industryRestricted),
      ];
    }
    case 'tax.local-taxes-assessed':
      return [set(`localTaxesDue#${event.data.taxYear}`, event.data.localTaxesDue)];
    case 'hrss.ui-annual-summary': {
      const y = event.data.year;
      return [
        set(`uiPremiumsPaid#${y}`, event.data.premiumsPaid),
        set(`uiInsuredHeadcount#${y}`, event.data.insuredHeadcount),
        set(`uiLayoffs#${y}`, event.data.layoffs),
        set(`uiArrears#${y}`, event.data.arrears),
        set(`enterpriseSize#${y}`, event.data.enterpriseSize),
      ];
    }
  }
}

/** The catalogue fact name of a storage key, or null when the key is not a catalogue fact. */
function catalogueName(key: string): string | null {
  const hash = key.indexOf('#');
  const name = hash < 0 ? key : key.slice(0, hash);
  const def = factDefinition(name);
  if (!def) return null;
  if (def.perYear) return hash >= 0 && /^[0-9]{4}$/.test(key.slice(hash + 1)) ? name : null;
  return hash < 0 ? name : null;
}

/**
 * Orders two records of one fact: latest `occurredAt` (as an instant, so `+08:00` and `Z` compare
 * correctly) wins, ties broken by the greater `id`. The last two keys only order records that the
 * contract says cannot coexist (one id, two bodies); they keep the merge commutative regardless.
 */
export function compareRecords(a: FactRecord, b: FactRecord): number {
  const ia = parseOffsetDateTime(a.occurredAt);
  const ib = parseOffsetDateTime(b.occurredAt);
  if (ia && ib) {
    const c = compareInstants(ia, ib);
    if (c !== 0) return c;
  } else if (ia || ib) {
    return ia ? 1 : -1; // a record with an unreadable time never beats a readable one
  }
  if (a.eventId !== b.eventId) return a.eventId < b.eventId ? -1 : 1;
  const ka = recordTieKey(a);
  const kb = recordTieKey(b);
  return ka === kb ? 0 : ka < kb ? -1 : 1;
}

const recordTieKey = (r: FactRecord): string =>
  JSON.stringify([r.occurredAt, r.source, r.value === undefined ? null : r.value, r.value === undefined]);

/**
 * Merges fact updates into a subject's stored facts. Each fact takes the update only when the
 * update's `(occurredAt, id)` is greater than the stored record's, so any order or repetition of
 * the same events gives the same facts. Keys outside the catalogue are ignored. `changed` says
 * whether any stored record was replaced or added.
 */
export function mergeFacts(
  current: StoredFacts,
  updates: ReadonlyArray<FactUpdate>,
): { facts: StoredFacts; changed: boolean } {
  let facts = current;
  let changed = false;
  for (const { key, record } of updates) {
    if (catalogueName(key) === null) continue;
    const stored = Object.hasOwn(facts, key) ? facts[key] : undefined;
    if (stored !== undefined && compareRecords(record, stored) <= 0) continue;
    if (!changed) {
      // Copy on first change only: callers compare `facts === current` cheaply when nothing changed.
      facts = { ...current };
      changed = true;
    }
    facts[key] = record;
  }
  return { facts, changed };
}

/**
 * The evaluator input of stored facts (`pb evaluate`'s `facts` object): plain facts by name,
 * per-year facts as `{ "2025": value }`; cleared facts and keys outside the catalogue omitted.
 * Keys come out sorted, so equal profiles serialise equally.
 */
export function toFactValues(stored: StoredFacts): FactValues {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(stored).sort()) {
    const record = stored[key]!;
    if (record.value === undefined) continue;
    const name = catalogueName(key);
    if (name === null) continue;
    if (key === name) {
      out[name] = record.value;
    } else {
      const years = (out[name] ?? {}) as Record<string, unknown>;
      years[key.slice(name.length + 1)] = record.value;
      out[name] = years;
    }
  }
  return out;
}
