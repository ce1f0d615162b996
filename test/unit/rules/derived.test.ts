import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFactValues, readFact } from '../../../src/domain/facts/catalogue.ts';
import {
  ageOn,
  aliveOn,
  certValidOn,
  countedMonths,
  layoffRateWithinLimit,
  parsePeriod,
  percentHalfUp,
} from '../../../src/domain/facts/derived.ts';

const year = (y: string) => parsePeriod(y)!;

describe('Function: ageOn', () => {
  it('counts the birthday itself as reached', () => {
    expect(ageOn('1945-03-01', '2025-03-01')).toBe(80);
  });
  it('does not count a birthday on the next day', () => {
    expect(ageOn('1945-03-02', '2025-03-01')).toBe(79);
  });
  it('reaches a 29 February birthday on 1 March in common years', () => {
    expect(ageOn('2004-02-29', '2025-02-28')).toBe(20);
    expect(ageOn('2004-02-29', '2025-03-01')).toBe(21);
  });
  it('reaches a 29 February birthday on 29 February in leap years', () => {
    expect(ageOn('1944-02-29', '2024-02-28')).toBe(79);
    expect(ageOn('1944-02-29', '2024-02-29')).toBe(80);
  });
  it('matches the definition for any pair of dates', () => {
    const date = fc
      .date({
        min: new Date('1900-01-01T00:00:00Z'),
        max: new Date('2100-12-31T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(date, date, (b, d) => {
        const [by, bm, bd] = b.split('-').map(Number) as [number, number, number];
        const [dy, dm, dd] = d.split('-').map(Number) as [number, number, number];
        const expected = dy - by - (dm < bm || (dm === bm && dd < bd) ? 1 : 0);
        expect(ageOn(b, d)).toBe(expected);
      }),
    );
  });
});

describe('Function: aliveOn', () => {
  it('is alive without a death date', () => {
    expect(aliveOn(undefined, '2025-03-01')).toBe(true);
  });
  it('is alive on the day of death', () => {
    expect(aliveOn('2025-03-01', '2025-03-01')).toBe(true);
  });
  it('is not alive the day after death', () => {
    expect(aliveOn('2025-02-28', '2025-03-01')).toBe(false);
  });
});

describe('Function: certValidOn', () => {
  it('is valid without an expiry', () => {
    expect(certValidOn(undefined, '2025-03-01')).toBe(true);
  });
  it('is valid on its expiry date', () => {
    expect(certValidOn('2025-03-01', '2025-03-01')).toBe(true);
  });
  it('is not valid after its expiry date', () => {
    expect(certValidOn('2025-02-28', '2025-03-01')).toBe(false);
  });
});

describe('Function: countedMonths', () => {
  it('ends before the third-birthday month of a 29 February birth (2027-02)', () => {
    expect(countedMonths(year('2025'), '2024-02-29')).toBe(12);
    expect(countedMonths(year('2027'), '2024-02-29')).toBe(1);
    expect(countedMonths(parsePeriod('2027-01')!, '2024-02-29')).toBe(1);
    expect(countedMonths(parsePeriod('2027-02')!, '2024-02-29')).toBe(0);
  });
  it('counts nothing before January 2025 for children born earlier', () => {
    expect(countedMonths(year('2024'), '2023-05-01')).toBe(0);
    expect(countedMonths(year('2025'), '2022-06-15')).toBe(5);
  });
  it('counts the birth month', () => {
    expect(countedMonths(year('2025'), '2025-12-31')).toBe(1);
  });
  it('counts the birth month even when the child died in it', () => {
    expect(countedMonths(year('2025'), '2025-03-10', '2025-03-12')).toBe(1);
  });
  it('counts a month when the child is alive on its first day', () => {
    expect(countedMonths(year('2025'), '2025-05-31', '2025-06-01')).toBe(2);
    expect(countedMonths(year('2025'), '2025-05-31', '2025-05-31')).toBe(1);
  });
  it('stops after a death mid-year', () => {
    expect(countedMonths(year('2025'), '2024-01-15', '2025-06-15')).toBe(6);
  });
  it('counts nothing for a child born after the period', () => {
    expect(countedMonths(year('2025'), '2026-01-01')).toBe(0);
  });
  it('never counts more than 36 months over a childhood', () => {
    const birth = fc
      .date({
        min: new Date('2022-01-01T00:00:00Z'),
        max: new Date('2030-12-31T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(birth, (b) => {
        const y = Number(b.slice(0, 4));
        const total = [0, 1, 2, 3].reduce((n, k) => n + countedMonths(year(String(y + k)), b), 0);
        expect(total).toBeLessThanOrEqual(36);
        if (b >= '2025-01-01') expect(total).toBe(36);
      }),
    );
  });
});

describe('Function: layoffRateWithinLimit', () => {
  it('accepts exactly 5.5% above 30 insured (11 of 200)', () => {
    expect(layoffRateWithinLimit(11, 200)).toBe(true);
    expect(layoffRateWithinLimit(12, 200)).toBe(false);
  });
  it('accepts exactly 20% at 30 insured (6 of 30)', () => {
    expect(layoffRateWithinLimit(6, 30)).toBe(true);
    expect(layoffRateWithinLimit(7, 30)).toBe(false);
  });
  it('applies 5.5% from 31 insured', () => {
    expect(layoffRateWithinLimit(1, 31)).toBe(true);
    expect(layoffRateWithinLimit(2, 31)).toBe(false);
  });
  it('is false without insured employees', () => {
    expect(layoffRateWithinLimit(0, 0)).toBe(false);
  });
  it('agrees with the integer formulas of benefits.md', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.integer({ min: 1, max: 100000 }), (l, h) => {
        const expected = h > 30 ? l * 1000 <= 55 * h : l * 10 <= 2 * h;
        expect(layoffRateWithinLimit(l, h)).toBe(expected);
      }),
    );
  });
});

describe('Function: percentHalfUp', () => {
  it('rounds 246913.4 down', () => {
    expect(percentHalfUp(1234567, 20, 100)).toBe(246913);
  });
  it('rounds exactly half a fen up', () => {
    expect(percentHalfUp(3, 50, 100)).toBe(2);
    expect(percentHalfUp(1, 50, 100)).toBe(1);
    expect(percentHalfUp(5, 30, 100)).toBe(2);
  });
  it('is exact beyond the float range of products', () => {
    expect(percentHalfUp(9_007_199_254_740_991, 60, 100)).toBe(5_404_319_552_844_595);
  });
  it('matches the rational definition floor(x * n / d + 1/2)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 100 }), (x, n) => {
        const r = percentHalfUp(x, n, 100);
        // r - 1/2 <= x*n/100 < r + 1/2, checked in integers
        expect(200 * r - 100).toBeLessThanOrEqual(2 * x * n);
        expect(2 * x * n).toBeLessThan(200 * r + 100);
      }),
    );
  });
  it('refuses a zero denominator', () => {
    expect(() => percentHalfUp(1, 1, 0)).toThrow(/denominator/);
  });
});

describe('Function: parsePeriod', () => {
  it('parses a year and its first day', () => {
    expect(parsePeriod('2025')).toMatchObject({ unit: 'year', year: 2025, start: '2025-01-01' });
  });
  it('parses a month and its first day', () => {
    expect(parsePeriod('2025-03')).toMatchObject({
      unit: 'month',
      year: 2025,
      month: 3,
      start: '2025-03-01',
    });
  });
  it('rejects other forms', () => {
    for (const bad of ['2025-13', '2025-00', '25', '2025-3', '2025-03-01', 'x'])
      expect(parsePeriod(bad)).toBeUndefined();
  });
});

describe('Function: readFact', () => {
  it('reads a per-year fact for its year only', () => {
    const facts = { taxableIncome: { '2024': 5 } };
    expect(readFact(facts, 'taxableIncome', 2024)).toEqual({
      key: 'taxableIncome#2024',
      known: true,
      value: 5,
    });
    expect(readFact(facts, 'taxableIncome', 2025)).toMatchObject({ key: 'taxableIncome#2025', known: false });
  });
  it('treats null and wrongly typed values as unknown', () => {
    expect(readFact({ deathDate: null }, 'deathDate', 2025).known).toBe(false);
    expect(readFact({ disabilityLevel: 7 }, 'disabilityLevel', 2025).known).toBe(false);
    expect(readFact({ birthDate: '2025-02-30' }, 'birthDate', 2025).known).toBe(false);
  });
});

describe('Function: checkFactValues', () => {
  it('names each badly typed value', () => {
    expect(checkFactValues('enterprise', { taxableIncome: 5, employeesAvg: { '2025': 1.5 } })).toEqual([
      'fact taxableIncome is per year: give an object keyed by year, e.g. {"2025": …}',
      'fact employeesAvg for 2025 must be a whole number',
    ]);
  });
  it('accepts valid profiles and ignores unknown names', () => {
    expect(checkFactValues('person', { birthDate: '2024-02-29', deathDate: null, nickname: 'x' })).toEqual(
      [],
    );
  });
});
