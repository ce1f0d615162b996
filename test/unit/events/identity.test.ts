import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  creditCodeProblem,
  findIdentityNumbers,
  isValidCreditCode,
  isValidPersonId,
  makeCreditCode,
  makePersonId,
  personIdProblem,
} from '../../../src/domain/identity.ts';
import { isPseudonym, pseudonymise, pseudonymiseEvent } from '../../../src/domain/pseudonym.ts';
import { open, redactEventId, redactIdentifiers, seal } from '../../../src/domain/sealed.ts';
import { parseAgencyEvent } from '../../../src/domain/events/parse.ts';
import { calendarDate } from './arbitraries.ts';

const KEY = Buffer.from('5f'.repeat(32), 'hex');

/** Published, real identifiers (the GB 11643 examples; credit codes of well-known companies). */
const KNOWN_PERSONS = ['11010519491231002X', '440524188001010014'];
const KNOWN_CODES = ['9144030071526726XG', '91330100716105852F', '914403001922038216', '91350100M000100Y43'];

const personId = fc
  .tuple(fc.constantFrom('110105', '310115', '440106'), calendarDate, fc.integer({ min: 0, max: 999 }))
  .map(([r, d, s]) => makePersonId(r, d, s));
const creditCode = fc
  .tuple(
    fc.constantFrom('91', '92', '93', '52', 'Y1'),
    fc.constantFrom('110105', '330100'),
    fc.nat({ max: 31 ** 9 - 1 }),
  )
  .map(([t, r, s]) => makeCreditCode(t, r, s));

describe('Module: identity', () => {
  it('accepts known-good identifiers', () => {
    for (const id of KNOWN_PERSONS) expect(isValidPersonId(id), id).toBe(true);
    for (const code of KNOWN_CODES) expect(isValidCreditCode(code), code).toBe(true);
  });

  it('rejects wrong check characters, wrong lengths and foreign characters', () => {
    expect(personIdProblem('110105194912310021')).toBe('check-digit');
    expect(personIdProblem('11010519491231002x')).toBe('format');
    expect(personIdProblem('11010519491231002')).toBe('format');
    expect(creditCodeProblem('91330100716105852G')).toBe('check-digit');
    expect(creditCodeProblem('91330100716105852I')).toBe('format'); // I is not in the alphabet
    expect(creditCodeProblem('9133010071610585')).toBe('format');
  });

  it('generates only valid ids, and every other last character is invalid', () => {
    fc.assert(
      fc.property(personId, creditCode, (p, c) => {
        expect(isValidPersonId(p)).toBe(true);
        expect(isValidCreditCode(c)).toBe(true);
        for (const ch of '0123456789X')
          if (ch !== p[17]) expect(isValidPersonId(p.slice(0, 17) + ch)).toBe(false);
      }),
    );
  });

  it('finds ids embedded in text, and nothing in pseudonyms', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(personId, creditCode, fc.string({ maxLength: 12 })), { maxLength: 8 }),
        fc.constantFrom(' ', ',', '"', ':', '/', '\n', '（'),
        (parts, sep) => {
          const text = parts.join(sep);
          const ids = parts.filter((p) => isValidPersonId(p) || isValidCreditCode(p));
          const found = findIdentityNumbers(text).map((f) => f.value);
          for (const id of ids) expect(found).toContain(id);
          const redacted = redactIdentifiers(text, KEY);
          expect(findIdentityNumbers(redacted)).toEqual([]);
          for (const id of ids) expect(redacted).toContain(pseudonymise(KEY, id));
        },
      ),
    );
  });

  it('redacts ids inside JSON and log lines', () => {
    const line = `rejected {"subject":{"kind":"person","id":"11010519491231002X"},"org":"91330100716105852F"}`;
    const out = redactIdentifiers(line, KEY);
    expect(out).toBe(
      `rejected {"subject":{"kind":"person","id":"${pseudonymise(KEY, '11010519491231002X')}"},"org":"${pseudonymise(KEY, '91330100716105852F')}"}`,
    );
  });
});

describe('Module: pseudonym', () => {
  it('is stable, keyed, and never looks like an identity number', () => {
    fc.assert(
      fc.property(fc.oneof(personId, creditCode), (id) => {
        const p = pseudonymise(KEY, id);
        expect(p).toMatch(/^ps_[0-9a-f]{32}$/);
        expect(isPseudonym(p)).toBe(true);
        expect(pseudonymise(KEY, id)).toBe(p);
        expect(pseudonymise(Buffer.alloc(32, 1), id)).not.toBe(p);
        expect(findIdentityNumbers(p)).toEqual([]);
      }),
    );
  });

  it('replaces the subject and every guardian of an event, and nothing else', () => {
    const raw = {
      id: 'ca-1',
      type: 'civil.birth-registered',
      schemaVersion: 1,
      source: 'civil-affairs',
      occurredAt: '2025-03-18T10:30:00+08:00',
      subject: { kind: 'person', id: makePersonId('110105', '2025-03-10', 24) },
      data: { birthDate: '2025-03-10', hukouRegion: '110105', guardians: KNOWN_PERSONS },
    };
    const parsed = parseAgencyEvent(JSON.stringify(raw));
    if (!parsed.ok) throw new Error(parsed.reason);
    const e = pseudonymiseEvent(KEY, parsed.event);
    expect(e.subject).toEqual({ kind: 'person', id: pseudonymise(KEY, raw.subject.id) });
    if (e.type !== 'civil.birth-registered') throw new Error('type changed');
    expect(e.data.guardians).toEqual(KNOWN_PERSONS.map((g) => pseudonymise(KEY, g)));
    expect(findIdentityNumbers(JSON.stringify(e))).toEqual([]);
    // The original is not modified.
    expect(parsed.event.subject.id).toBe(raw.subject.id);
  });
});

describe('Function: redactEventId', () => {
  it('keeps an id as sent unless an identity number is in it', () => {
    expect(redactEventId('ps-20250601100000123', KEY)).toBe('ps-20250601100000123');
    expect(redactEventId('tax-2026-000123', KEY)).toBe('tax-2026-000123');
    expect(redactEventId('ev-12345678901234567890', KEY, true)).toBe('ev-12345678901234567890');
  });

  it('replaces an identity number by its pseudonym, a lower-case check x included', () => {
    const upper = redactEventId('ev-11010519491231002X', KEY);
    expect(upper).toBe(`ev-${pseudonymise(KEY, '11010519491231002X')}`);
    expect(redactEventId('ev-11010519491231002x', KEY)).toBe(upper);
  });

  it('replaces a credit code written in lower case by the pseudonym of the code, and nothing else', () => {
    const upper = redactEventId('e-91310104000000047L', KEY);
    expect(upper).toBe(`e-${pseudonymise(KEY, '91310104000000047L')}`);
    expect(redactEventId('e-91310104000000047l', KEY)).toBe(upper);
    expect(redactEventId('e-9111010500049m302t', KEY, true)).toBe(
      `e-${pseudonymise(KEY, '9111010500049M302T')}`,
    );
    // Eighteen letters and digits in lower case that are no code, upper-cased or not, stay as sent.
    expect(redactEventId('e-91310104000000047m', KEY)).toBe('e-91310104000000047m');
    expect(redactEventId('batch-abcdefghijklmnopqr', KEY)).toBe('batch-abcdefghijklmnopqr');
  });

  it('masks a mistyped identity number where a rejection shows the id, and only there', () => {
    expect(redactEventId('ev-110105194912310021', KEY, true)).toBe('ev-[masked]');
    expect(redactEventId('ev-110105194912310021', KEY)).toBe('ev-110105194912310021');
  });
});

describe('Module: sealed', () => {
  it('opens what it sealed, and nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const s = seal(KEY, text);
        expect(s.startsWith('v1.')).toBe(true);
        expect(open(KEY, s)).toBe(text);
      }),
    );
    const s = seal(KEY, '{"id":"11010519491231002X"}');
    expect(s).not.toContain('11010519491231002X');
    expect(seal(KEY, 'same')).not.toBe(seal(KEY, 'same'));
    expect(() => open(Buffer.alloc(32, 2), s)).toThrow();
    // The second-to-last character replaced by another one (it carries whole ciphertext bits).
    const tampered = `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.slice(-1)}`;
    expect(tampered).not.toBe(s);
    expect(() => open(KEY, tampered)).toThrow();
    expect(() => open(KEY, 'v2.abc')).toThrow();
  });
});
