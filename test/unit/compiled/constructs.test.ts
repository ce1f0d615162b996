/**
 * Differential test on rule constructs the shipped policies do not use: `not`, named and unnamed
 * `any` nested in `all` and the reverse, every operator (including numeric operators on dates and
 * `startsWith` on a region code), a `path` into a list, literal and parameter ratios, a parameter that
 * expires (missing-parameter), dated parameter changes, tiered amounts with parameter bounds and
 * nested tiers, and `eligibleFor:` inside an `any`. Two policies are added to a copy of the shipped
 * rules and checked by the validator first, so they are rules policy staff could publish.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createCompiledEvaluator } from '../../../src/domain/rules/compiled/index.ts';
import { createReferenceEvaluator, loadPolicySet, readRulesDir } from '../../../src/domain/rules/index.ts';
import { enterpriseCase, monthPeriod, personCase, yearPeriod } from './arbitraries.ts';

const RUNS = Number(process.env.PB_DIFF_RUNS ?? 10_000) >= 10_000 ? 4_000 : 1_000;
const dir = mkdtempSync(join(tmpdir(), 'pb-constructs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common = {
  version: '0.1.0',
  legalReference: { document: 'test', article: 'test', link: 'https://example.org/test' },
  notification: { templateIds: ['test.granted'], recipients: 'subject' },
  reviewSampleRate: 0,
};

const personPolicy = {
  id: 'constructs-person',
  title: { 'zh-CN': '测试', en: 'Constructs (persons)' },
  subjectKind: 'person',
  periodUnit: 'month',
  effective: { from: '2024-01', to: '2026-12' },
  conditions: {
    all: [
      {
        name: 'region',
        fact: 'hukouRegion',
        operator: 'startsWith',
        value: { param: 'municipal.hukou-region-prefix' },
      },
      {
        name: 'dead',
        not: { name: 'dead-inner', fact: 'aliveOnPeriodStart', operator: 'equal', value: false },
      },
      {
        name: 'level-or-dibao',
        any: [
          { name: 'level-1-2', fact: 'disabilityLevel', operator: 'in', value: [1, 2] },
          {
            all: [
              { name: 'level-3-4', fact: 'disabilityLevel', operator: 'notIn', value: [1, 2] },
              { name: 'no-dibao', fact: 'dibaoEnrolled', operator: 'equal', value: true },
            ],
          },
        ],
      },
      {
        any: [
          { name: 'not-a-minor', fact: 'ageOnPeriodStart', operator: 'lessThan', value: 18 },
          {
            name: 'below-expiring-age',
            fact: 'ageOnPeriodStart',
            operator: 'greaterThanInclusive',
            value: { param: 'test.expiring-age' },
          },
        ],
      },
      { name: 'bad-guardian', fact: 'guardians', operator: 'doesNotContain', value: 'g-2' },
      { name: 'first-guardian', fact: 'guardians', path: '0', operator: 'notEqual', value: 'g-9' },
      { name: 'cert-expired', fact: 'certValidOnPeriodStart', operator: 'notEqual', value: false },
      {
        name: 'odd-comparisons',
        any: [
          { name: 'birth-number', fact: 'birthDate', operator: 'greaterThan', value: 1900 },
          { name: 'region-starts', fact: 'hukouRegion', operator: 'startsWith', value: '1' },
          { name: 'guardian-listed', fact: 'guardians', operator: 'contains', value: 'g-1' },
          { name: 'level-le', fact: 'disabilityLevel', operator: 'lessThanInclusive', value: 3 },
        ],
      },
    ],
  },
  amount: {
    kind: 'tiered',
    fact: 'ageOnPeriodStart',
    tiers: [
      { max: 17, amount: { kind: 'fixed', value: { param: 'test.dated-amount' } } },
      {
        min: { param: 'test.expiring-age' },
        max: 99,
        amount: {
          kind: 'tiered',
          fact: 'disabilityLevel',
          tiers: [
            { in: [1], amount: { kind: 'fixed', value: 300 } },
            { min: 2, max: 3, amount: { kind: 'fixed', value: { param: 'test.dated-amount' } } },
          ],
        },
      },
      { min: 100, amount: { kind: 'fixed', value: 1000 } },
    ],
  },
  ...common,
};

const enterprisePolicy = {
  id: 'constructs-enterprise',
  title: { 'zh-CN': '测试', en: 'Constructs (enterprises)' },
  subjectKind: 'enterprise',
  periodUnit: 'year',
  effective: { from: '2023' },
  conditions: {
    any: [
      {
        all: [
          { name: 'income', fact: 'taxableIncome', operator: 'greaterThan', value: 0 },
          {
            name: 'income-cap',
            fact: 'taxableIncome',
            operator: 'lessThan',
            value: { param: 'small-low-profit-cit.max-taxable-income' },
          },
          {
            name: 'restricted',
            not: { name: 'restricted-inner', fact: 'industryRestricted', operator: 'equal', value: true },
          },
        ],
      },
      { name: 'cit', fact: 'eligibleFor:small-low-profit-cit', operator: 'equal', value: true },
      { name: 'micro', fact: 'enterpriseSize', operator: 'in', value: ['micro'] },
      {
        name: 'layoffs',
        fact: 'layoffRateWithinLimit',
        params: {
          smallHeadcountMax: 10,
          smallMaxRate: { numerator: 1, denominator: 3 },
          maxRate: { param: 'test.ratio' },
        },
        operator: 'equal',
        value: true,
      },
    ],
    name: 'nothing-applies',
  },
  amount: {
    kind: 'tiered',
    fact: 'enterpriseSize',
    tiers: [
      {
        in: ['micro', 'small'],
        amount: {
          kind: 'percentOf',
          fact: 'localTaxesDue',
          numerator: { param: 'test.percent' },
          denominator: 3,
        },
      },
      {
        in: ['medium'],
        amount: {
          kind: 'percentOf',
          fact: 'uiPremiumsPaid',
          numerator: 7,
          denominator: { param: 'test.denominator' },
        },
      },
      { min: 1, amount: { kind: 'fixed', value: 1 } },
    ],
  },
  ...common,
};

const testParams = {
  parameters: [
    {
      name: 'test.expiring-age',
      unit: 'years',
      values: [{ from: '2024-01-01', to: '2025-06-30', value: 60 }],
    },
    {
      name: 'test.dated-amount',
      unit: 'fen',
      values: [
        { from: '2024-01-01', value: 100 },
        { from: '2025-01-01', value: 250 },
      ],
    },
    {
      name: 'test.ratio',
      unit: 'ratio',
      values: [{ from: '2023-01-01', value: { numerator: 1, denominator: 20 } }],
    },
    {
      name: 'test.percent',
      unit: 'percent',
      values: [
        { from: '2023-01-01', to: '2025-12-31', value: 50 },
        { from: '2027-01-01', value: 1 },
      ],
    },
    { name: 'test.denominator', unit: 'count', values: [{ from: '2023-01-01', value: 9 }] },
  ],
};

cpSync('rules', dir, { recursive: true, filter: (src) => !src.endsWith('.test.json') });
writeFileSync(join(dir, 'constructs-person.json'), JSON.stringify(personPolicy));
writeFileSync(join(dir, 'constructs-enterprise.json'), JSON.stringify(enterprisePolicy));
writeFileSync(join(dir, 'params', 'test.json'), JSON.stringify(testParams));

describe('Function: createCompiledEvaluator (rule constructs, differential)', () => {
  it('the constructs policies pass the validator', () => {
    expect(readRulesDir(dir).problems.map((p) => p.text)).toEqual([]);
  });

  const set = loadPolicySet(dir);
  const reference = createReferenceEvaluator(set);
  const compiled = createCompiledEvaluator(set);

  for (const [policy, arb] of [
    ['constructs-person', personCase(monthPeriod)],
    ['constructs-enterprise', enterpriseCase(yearPeriod)],
  ] as const) {
    it(`agrees with the reference on ${RUNS} generated fact sets for ${policy}`, {
      timeout: 300_000,
    }, async () => {
      const kind = policy === 'constructs-person' ? 'person' : 'enterprise';
      const reasons = new Set<string>();
      let eligible = 0;
      await fc.assert(
        fc.asyncProperty(arb, async (c) => {
          const input = { subject: 'x', kind, facts: c.facts } as const;
          const want = await reference.evaluate(input, c.period, { policy });
          const got = compiled.evaluateFullSync(input, c.period, { policy });
          if (!isDeepStrictEqual(got, want)) expect({ c, got }).toStrictEqual({ c, got: want });
          const fast = compiled.evaluateSync(input, c.period, { policy });
          expect(fast.map((r) => [r.outcome, r.amount, r.reasons])).toStrictEqual(
            want.map((r) => [r.outcome, r.amount, r.reasons]),
          );
          for (const r of want[0]!.reasons) reasons.add(r);
          if (want[0]!.outcome === 'eligible') eligible += 1;
        }),
        { numRuns: RUNS },
      );
      // The generated facts reach granted decisions, failed comparisons and missing parameters.
      expect(eligible).toBeGreaterThan(0);
      expect([...reasons].some((r) => r.startsWith('missing-parameter:'))).toBe(true);
      expect(reasons.size).toBeGreaterThan(5);
    });
  }
});
