import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAgencyEvent } from '../../../src/domain/events/parse.ts';
import { factUpdates, mergeFacts, toFactValues } from '../../../src/domain/facts/merge.ts';
import { type PseudonymousEvent, pseudonymiseEvent } from '../../../src/domain/pseudonym.ts';
import type { StoredFacts } from '../../../src/domain/types.ts';
import { stream } from './arbitraries.ts';

const KEY = Buffer.alloc(32, 7);

function accept(raw: object): PseudonymousEvent {
  const parsed = parseAgencyEvent(JSON.stringify(raw));
  if (!parsed.ok) throw new Error(parsed.reason);
  return pseudonymiseEvent(KEY, parsed.event);
}

/** Folds events into profiles by subject, as the ingest does one event at a time. */
function profiles(events: PseudonymousEvent[]): Map<string, StoredFacts> {
  const out = new Map<string, StoredFacts>();
  for (const e of events) {
    const current = out.get(e.subject.id) ?? {};
    out.set(e.subject.id, mergeFacts(current, factUpdates(e)).facts);
  }
  return out;
}

const sorted = (m: Map<string, StoredFacts>) =>
  Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));

const base = {
  schemaVersion: 1,
  subject: { kind: 'person', id: '11010519491231002X' },
};

describe('Function: mergeFacts', () => {
  it('gives identical profiles for any duplication and permutation of a valid stream', () => {
    fc.assert(
      fc.property(
        stream.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.array(fc.nat({ max: events.length - 1 }), { maxLength: 20 }).chain((dups) =>
              fc.shuffledSubarray([...events, ...dups.map((i) => events[i]!)], {
                minLength: events.length + dups.length,
              }),
            ),
          ),
        ),
        ([events, reordered]) => {
          // Prepare
          const original = events.map(accept);
          const shuffled = reordered.map(accept);
          // Act
          const a = profiles(original);
          const b = profiles(shuffled);
          // Assess
          expect(sorted(b)).toEqual(sorted(a));
          for (const [subject, facts] of a)
            expect(toFactValues(b.get(subject)!)).toEqual(toFactValues(facts));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps, for each fact, the value of the event with the latest instant, ties by greater id', () => {
    fc.assert(
      fc.property(stream, (events) => {
        const accepted = events.map(accept);
        const merged = profiles(accepted);
        // An independent oracle: sort by (epoch ms, id) and let the last writer win.
        const ms = (e: PseudonymousEvent) => Date.parse(e.occurredAt);
        const ordered = [...accepted].sort(
          (x, y) => ms(x) - ms(y) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
        );
        const expected = new Map<string, Record<string, unknown>>();
        for (const e of ordered) {
          const p = expected.get(e.subject.id) ?? {};
          for (const u of factUpdates(e)) p[u.key] = u.record.value;
          expected.set(e.subject.id, p);
        }
        for (const [subject, facts] of merged) {
          const values = Object.fromEntries(Object.entries(facts).map(([k, r]) => [k, r.value]));
          expect(values).toEqual(expected.get(subject));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('compares occurredAt as instants, not strings', () => {
    // Prepare: 09:00+08:00 is 01:00Z, earlier than 02:00Z although it sorts later as a string.
    const early = accept({
      ...base,
      id: 'b',
      type: 'public-security.hukou-moved',
      source: 'public-security',
      occurredAt: '2025-06-01T09:00:00+08:00',
      data: { hukouRegion: '110101' },
    });
    const late = accept({
      ...base,
      id: 'a',
      type: 'public-security.hukou-moved',
      source: 'public-security',
      occurredAt: '2025-06-01T02:00:00Z',
      data: { hukouRegion: '310115' },
    });
    // Act
    const merged = mergeFacts(mergeFacts({}, factUpdates(late)).facts, factUpdates(early));
    // Assess
    expect(merged.changed).toBe(false);
    expect(toFactValues(merged.facts)).toEqual({ hukouRegion: '310115' });
  });

  it('reports no change for the same event again and returns the same object', () => {
    const e = accept({
      ...base,
      id: 'x1',
      type: 'civil.dibao-status-changed',
      source: 'civil-affairs',
      occurredAt: '2025-01-08T09:45:00+08:00',
      data: { enrolled: true },
    });
    const once = mergeFacts({}, factUpdates(e));
    const twice = mergeFacts(once.facts, factUpdates(e));
    expect(once.changed).toBe(true);
    expect(twice.changed).toBe(false);
    expect(twice.facts).toBe(once.facts);
  });

  it('clears disabilityLevel on revocation and a later certification restores it', () => {
    const certified = accept({
      ...base,
      id: 'dpf-1',
      type: 'dpf.disability-certified',
      source: 'dpf',
      occurredAt: '2024-03-15T10:00:00+08:00',
      data: { level: 2, validUntil: '2027-01-31' },
    });
    const revoked = accept({
      ...base,
      id: 'dpf-2',
      type: 'dpf.disability-revoked',
      source: 'dpf',
      occurredAt: '2025-08-01T16:05:00+08:00',
      data: { revokedOn: '2025-08-01' },
    });
    const recertified = accept({
      ...base,
      id: 'dpf-3',
      type: 'dpf.disability-certified',
      source: 'dpf',
      occurredAt: '2025-10-01T10:00:00+08:00',
      data: { level: 3, validUntil: null },
    });
    const afterRevoke = mergeFacts(mergeFacts({}, factUpdates(revoked)).facts, factUpdates(certified)).facts;
    expect(afterRevoke.disabilityLevel).toMatchObject({ eventId: 'dpf-2' });
    expect(afterRevoke.disabilityLevel!.value).toBeUndefined();
    expect(toFactValues(afterRevoke)).toEqual({ disabilityCertValidUntil: '2027-01-31' });
    const after = mergeFacts(afterRevoke, factUpdates(recertified)).facts;
    // validUntil null = no expiry: the older expiry must not survive.
    expect(toFactValues(after)).toEqual({ disabilityLevel: 3 });
  });
});

describe('Function: factUpdates', () => {
  it('keys per-year facts by year and keeps only catalogue facts of business registration', () => {
    const cit = accept({
      id: 'tax-2026-000123',
      type: 'tax.annual-cit-assessed',
      schemaVersion: 1,
      source: 'tax',
      occurredAt: '2026-05-31T10:00:00+08:00',
      subject: { kind: 'enterprise', id: '91330100716105852F' },
      data: {
        taxYear: 2025,
        taxableIncome: -120000000,
        employeesAvg: 48,
        totalAssetsAvg: 1500000000,
        industryRestricted: false,
      },
    });
    expect(factUpdates(cit).map((u) => u.key)).toEqual([
      'taxableIncome#2025',
      'employeesAvg#2025',
      'totalAssetsAvg#2025',
      'industryRestricted#2025',
    ]);
    expect(factUpdates(cit)[0]!.record).toEqual({
      eventId: 'tax-2026-000123',
      source: 'tax',
      occurredAt: '2026-05-31T10:00:00+08:00',
      value: -120000000,
    });
    const reg = accept({
      id: 'samr-1',
      type: 'samr.business-registered',
      schemaVersion: 1,
      source: 'samr',
      occurredAt: '2021-06-15T09:00:00+08:00',
      subject: { kind: 'enterprise', id: '91330100716105852F' },
      data: { enterpriseType: 'company', region: '330100' },
    });
    expect(factUpdates(reg).map((u) => u.key)).toEqual(['enterpriseType']);
  });

  it('stores guardians as pseudonyms', () => {
    const birth = accept({
      ...base,
      id: 'ca-1',
      type: 'civil.birth-registered',
      source: 'civil-affairs',
      occurredAt: '2025-03-18T10:30:00+08:00',
      data: { birthDate: '2025-03-10', hukouRegion: '110105', guardians: ['11010519491231002X'] },
    });
    const g = factUpdates(birth).find((u) => u.key === 'guardians')!.record.value as string[];
    expect(g).toHaveLength(1);
    expect(g[0]).toMatch(/^ps_[0-9a-f]{32}$/);
  });
});

describe('Function: toFactValues', () => {
  it('groups per-year facts by year and drops cleared and unknown keys', () => {
    const p = { eventId: 'e', source: 'tax', occurredAt: '2026-01-01T00:00:00Z' };
    const values = toFactValues({
      'taxableIncome#2025': { ...p, value: 120000000 },
      'taxableIncome#2024': { ...p, value: 5 },
      enterpriseType: { ...p, value: 'company' },
      disabilityLevel: { ...p },
      region: { ...p, value: '110105' },
      'enterpriseType#2025': { ...p, value: 'company' },
    });
    expect(values).toEqual({ enterpriseType: 'company', taxableIncome: { '2024': 5, '2025': 120000000 } });
  });
});
