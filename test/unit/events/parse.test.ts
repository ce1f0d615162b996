import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_ROUTING, EVENT_TYPES, type EventType, SOURCES } from '../../../events/schemas.ts';
import { parseAgencyEvent, type REJECTION_PREFIXES, reasonPrefix } from '../../../src/domain/events/parse.ts';
import { findIdentityNumbers } from '../../../src/domain/identity.ts';
import { anyEvent } from './arbitraries.ts';

type Raw = Record<string, unknown> & { data: Record<string, unknown>; subject: Record<string, unknown> };
const clone = (e: object): Raw => structuredClone(e) as Raw;

const SAMPLES = new URL('../../../events/samples/', import.meta.url);

/** Date fields, money fields and count fields of each type's data. */
const DATE_FIELDS: Partial<Record<EventType, string[]>> = {
  'person.registered': ['birthDate'],
  'civil.birth-registered': ['birthDate'],
  'civil.death-registered': ['deathDate'],
  'dpf.disability-revoked': ['revokedOn'],
};
const MONEY_FIELDS: Partial<Record<EventType, string[]>> = {
  'tax.annual-cit-assessed': ['taxableIncome', 'totalAssetsAvg'],
  'tax.local-taxes-assessed': ['localTaxesDue'],
  'hrss.ui-annual-summary': ['premiumsPaid'],
};
const COUNT_FIELDS: Partial<Record<EventType, string[]>> = {
  'tax.annual-cit-assessed': ['employeesAvg'],
  'hrss.ui-annual-summary': ['insuredHeadcount', 'layoffs'],
};

/** A way to break a valid event, and the reason prefix it must be rejected with. */
interface Malformation {
  name: string;
  prefix: (typeof REJECTION_PREFIXES)[number];
  /** Returns the raw text, or null when it does not apply to this event. */
  apply: (e: Raw, pick: number) => string | null;
}

const wrongCheck = (id: string, pick: number): string => {
  const alphabet = /^[0-9]{17}[0-9X]$/.test(id) ? '0123456789X' : '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const others = [...alphabet].filter((c) => c !== id[17]);
  return id.slice(0, 17) + others[pick % others.length];
};

const MALFORMATIONS: Malformation[] = [
  {
    name: 'unknown type',
    prefix: 'unknown-type',
    apply: (e, pick) => JSON.stringify({ ...e, type: ['foo.bar', 'person.Registered', 'tax', ''][pick % 4] }),
  },
  {
    name: 'unknown schema version',
    prefix: 'unknown-type',
    apply: (e) => JSON.stringify({ ...e, schemaVersion: 2 }),
  },
  {
    name: 'wrong source',
    prefix: 'source-mismatch',
    apply: (e, pick) => {
      const others = SOURCES.filter((s) => s !== e.source);
      return JSON.stringify({ ...e, source: others[pick % others.length] });
    },
  },
  {
    name: 'wrong subject kind',
    prefix: 'subject-kind-mismatch',
    apply: (e) =>
      JSON.stringify({
        ...e,
        subject: { ...e.subject, kind: e.subject.kind === 'person' ? 'enterprise' : 'person' },
      }),
  },
  {
    name: 'bad subject check digit',
    prefix: 'invalid-identity',
    apply: (e, pick) =>
      JSON.stringify({ ...e, subject: { ...e.subject, id: wrongCheck(String(e.subject.id), pick) } }),
  },
  {
    name: 'bad guardian check digit',
    prefix: 'invalid-identity',
    apply: (e, pick) => {
      const guardians = e.data.guardians as string[] | undefined;
      if (!guardians) return null;
      const i = pick % guardians.length;
      const broken = guardians.map((g, j) => (j === i ? wrongCheck(g, pick) : g));
      return JSON.stringify({ ...e, data: { ...e.data, guardians: broken } });
    },
  },
  {
    name: 'extra key at some level',
    prefix: 'unknown-field',
    apply: (e, pick) => {
      const c = clone(e);
      const target = [c, c.subject, c.data][pick % 3]!;
      target[['extra', 'note', 'Id', 'data2'][pick % 4]!] = pick % 2 === 0 ? 1 : { nested: true };
      return JSON.stringify(c);
    },
  },
  {
    name: 'impossible date',
    prefix: 'invalid-field',
    apply: (e, pick) => {
      const fields = DATE_FIELDS[e.type as EventType];
      const bad = ['2025-02-30', '2023-02-29', '2025-04-31', '2025-13-01', '2025-00-10', '2025-1-01'][
        pick % 6
      ];
      if (fields) return JSON.stringify({ ...e, data: { ...e.data, [fields[pick % fields.length]!]: bad } });
      return JSON.stringify({ ...e, occurredAt: `${bad}T10:00:00+08:00` });
    },
  },
  {
    name: 'occurredAt without offset',
    prefix: 'invalid-field',
    apply: (e) =>
      JSON.stringify({ ...e, occurredAt: String(e.occurredAt).replace(/(Z|[+-]\d\d:\d\d)$/, '') }),
  },
  {
    name: 'float money',
    prefix: 'invalid-field',
    apply: (e, pick) => {
      const fields = MONEY_FIELDS[e.type as EventType];
      if (!fields) return null;
      const f = fields[pick % fields.length]!;
      return JSON.stringify({ ...e, data: { ...e.data, [f]: Number(e.data[f]) + 0.5 } });
    },
  },
  {
    name: 'negative count',
    prefix: 'invalid-field',
    apply: (e, pick) => {
      const fields = COUNT_FIELDS[e.type as EventType];
      if (!fields) return null;
      return JSON.stringify({ ...e, data: { ...e.data, [fields[pick % fields.length]!]: -1 - (pick % 5) } });
    },
  },
  {
    name: 'missing field',
    prefix: 'missing-field',
    apply: (e, pick) => {
      const c = clone(e);
      const keys = Object.keys(c.data);
      if (keys.length === 0) return null;
      delete c.data[keys[pick % keys.length]!];
      return JSON.stringify(c);
    },
  },
  {
    name: 'oversized',
    prefix: 'too-large',
    apply: (e, pick) => JSON.stringify({ ...e, padding: 'x'.repeat(65536 + (pick % 1000)) }),
  },
  {
    name: 'forbidden key at some level',
    prefix: 'forbidden-key',
    apply: (e, pick) => {
      const key = ['__proto__', 'constructor', 'prototype'][pick % 3];
      const value = '{"polluted":"yes","toString":1}';
      const text = JSON.stringify(e);
      // Injected as text: an object literal with __proto__ would set the prototype instead.
      const where = pick % 3;
      if (where === 0) return `{"${key}":${value},${text.slice(1)}`;
      if (where === 1) return text.replace('"subject":{', `"subject":{"${key}":${value},`);
      return text.replace('"data":{', `"data":{"${key}":${value},`);
    },
  },
  {
    name: 'truncated JSON',
    prefix: 'malformed-json',
    apply: (e, pick) => {
      const text = JSON.stringify(e);
      return text.slice(0, pick % text.length);
    },
  },
];

describe('Function: parseAgencyEvent', () => {
  it('accepts every sample file, line by line', () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.jsonl'));
    expect(files.sort()).toEqual([...EVENT_TYPES.map((t) => `${t}.jsonl`), 'demo.jsonl'].sort());
    for (const file of files) {
      const lines = readFileSync(new URL(file, SAMPLES), 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        const r = parseAgencyEvent(line);
        expect(r.ok ? 'ok' : `${file}: ${r.reason}`).toBe('ok');
        if (file !== 'demo.jsonl' && r.ok) expect(`${r.event.type}.jsonl`).toBe(file);
      }
    }
  });

  it('accepts every generated valid event, whatever its key order, with the same bodyHash', () => {
    fc.assert(
      fc.property(anyEvent, (e) => {
        const a = parseAgencyEvent(JSON.stringify(e));
        const reordered = Object.fromEntries(Object.entries(e).reverse());
        const b = parseAgencyEvent(JSON.stringify(reordered, null, 2));
        expect(a.ok && b.ok).toBe(true);
        if (a.ok && b.ok) {
          expect(b.bodyHash).toBe(a.bodyHash);
          expect(a.bodyHash).toMatch(/^[0-9a-f]{64}$/);
          expect(a.event).toEqual(e);
        }
      }),
    );
  });

  it('rejects every generated malformation with its specific reason prefix', () => {
    const prefixes = new Set<string>();
    fc.assert(
      fc.property(anyEvent, fc.constantFrom(...MALFORMATIONS), fc.nat(), (e, m, pick) => {
        // Prepare
        const raw = m.apply(clone(e), pick);
        fc.pre(raw !== null);
        // Act
        const r = parseAgencyEvent(raw!);
        // Assess
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(reasonPrefix(r.reason), `${m.name}: ${r.reason}`).toBe(m.prefix);
        prefixes.add(m.prefix);
        expect(r.reason).not.toMatch(/\n/);
        expect(findIdentityNumbers(r.reason)).toEqual([]);
        // The id is the event's own id when extracted, never anything else (not subject.id).
        if (m.prefix !== 'malformed-json') expect(r.id).toBe(e.id);
        else expect(r.id).toBeNull();
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      { numRuns: 2000 },
    );
    expect([...prefixes].sort()).toEqual([...new Set(MALFORMATIONS.map((m) => m.prefix))].sort());
  });

  it('gives the exact reasons of the contract examples', () => {
    const sample = JSON.parse(readFileSync(new URL('tax.vat-status-changed.jsonl', SAMPLES), 'utf8'));
    const reason = (raw: string) => {
      const r = parseAgencyEvent(raw);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(JSON.stringify({ ...sample, source: 'samr' }))).toBe(
      'source-mismatch: tax.vat-status-changed must come from tax, not samr',
    );
    expect(reason(JSON.stringify({ ...sample, type: 'foo.bar' }))).toBe('unknown-type: foo.bar v1');
    expect(reason('x'.repeat(70000))).toBe('too-large: 70000 bytes > 65536');
    expect(reason('{"id":"a"')).toMatch(/^malformed-json: /);
    expect(reason(`{"__proto__":{"polluted":1},${JSON.stringify(sample).slice(1)}`)).toBe(
      'forbidden-key: __proto__',
    );
    expect(reason(JSON.stringify({ ...sample, data: { ...sample.data, extra: 1 } }))).toBe(
      'unknown-field: data.extra',
    );
    expect(reason('[]')).toBe('not-an-object: got array');
    expect(reason('null')).toBe('not-an-object: got null');
  });

  it('counts the size in UTF-8 bytes, not characters', () => {
    const sample = JSON.parse(readFileSync(new URL('person.registered.jsonl', SAMPLES), 'utf8'));
    const raw = JSON.stringify({ ...sample, note: '育'.repeat(22000) });
    expect(raw.length).toBeLessThan(65536);
    const r = parseAgencyEvent(raw);
    expect(r.ok ? 'ok' : reasonPrefix(r.reason)).toBe('too-large');
    expect(r.ok ? null : r.id).toBe(sample.id);
  });

  it('gives no id for a body that is not JSON (no guess from the text), and the id of a too-large one', () => {
    const raw = '{"subject":{"kind":"person","id":"11010519491231002X"},"id":"ev-1","data":{';
    expect(parseAgencyEvent(raw)).toMatchObject({ ok: false, id: null });
    expect(parseAgencyEvent('{"id":"ev-2"')).toMatchObject({ ok: false, id: null });
    const big = JSON.stringify({ id: 'ev-3', padding: 'x'.repeat(300_000) });
    expect(parseAgencyEvent(big)).toMatchObject({ ok: false, id: 'ev-3' });
    expect(parseAgencyEvent(`${big.slice(0, -2)}`)).toMatchObject({ ok: false, id: null });
  });

  it('keeps person ids and credit codes to their kinds and checks guardians', () => {
    const sample = JSON.parse(readFileSync(new URL('civil.birth-registered.jsonl', SAMPLES), 'utf8'));
    const r = parseAgencyEvent(
      JSON.stringify({ ...sample, data: { ...sample.data, guardians: ['91330100716105852F'] } }),
    );
    expect(r.ok ? 'ok' : r.reason).toBe(
      'invalid-identity: data.guardians[0]: not an 18-character resident identity number',
    );
    const five = Array(5).fill(sample.data.guardians[0]);
    const r5 = parseAgencyEvent(JSON.stringify({ ...sample, data: { ...sample.data, guardians: five } }));
    expect(r5.ok ? 'ok' : reasonPrefix(r5.reason)).toBe('invalid-field');
    const lower = parseAgencyEvent(
      JSON.stringify({ ...sample, subject: { kind: 'person', id: '11010519491231002x' } }),
    );
    expect(lower.ok ? 'ok' : lower.reason).toBe(
      'invalid-identity: subject.id: not an 18-character resident identity number',
    );
  });

  it('enforces the field ranges of the contract', () => {
    const line = (t: EventType) => JSON.parse(readFileSync(new URL(`${t}.jsonl`, SAMPLES), 'utf8'));
    const cit = line('tax.annual-cit-assessed');
    const prefix = (o: object) => {
      const r = parseAgencyEvent(JSON.stringify(o));
      return r.ok ? 'ok' : r.reason;
    };
    expect(prefix({ ...cit, data: { ...cit.data, taxableIncome: -5 } })).toBe('ok');
    expect(prefix({ ...cit, data: { ...cit.data, taxYear: 1999 } })).toMatch(/^invalid-field: data.taxYear/);
    expect(prefix({ ...cit, data: { ...cit.data, taxYear: 2101 } })).toMatch(/^invalid-field: data.taxYear/);
    expect(prefix({ ...cit, data: { ...cit.data, totalAssetsAvg: -1 } })).toMatch(
      /^invalid-field: data.totalAssetsAvg/,
    );
    expect(prefix({ ...cit, data: { ...cit.data, employeesAvg: '48' } })).toMatch(
      /^invalid-field: data.employeesAvg/,
    );
    expect(prefix({ ...cit, id: 'has space' })).toMatch(/^invalid-field: id/);
    expect(prefix({ ...cit, id: 'x'.repeat(129) })).toMatch(/^invalid-field: id/);
    expect(prefix({ ...cit, occurredAt: '2026-05-31T24:00:00+08:00' })).toMatch(/^invalid-field: occurredAt/);
    const cert = line('dpf.disability-certified');
    expect(prefix({ ...cert, data: { ...cert.data, level: 5 } })).toMatch(/^invalid-field: data.level/);
    expect(prefix({ ...cert, data: { ...cert.data, validUntil: null } })).toBe('ok');
    const reg = line('person.registered');
    expect(prefix({ ...reg, data: { ...reg.data, hukouRegion: '11010' } })).toMatch(
      /^invalid-field: data.hukouRegion/,
    );
    expect(prefix({ ...reg, data: { ...reg.data, birthDate: '2024-02-29' } })).toBe('ok');
    for (const t of EVENT_TYPES) expect(line(t).source).toBe(EVENT_ROUTING[t].source);
  });
});
