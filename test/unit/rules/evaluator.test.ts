import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { factDefinition } from '../../../src/domain/facts/catalogue.ts';
import {
  createReferenceEvaluator,
  type Evaluation,
  loadPolicySet,
  periodsOpenedAt,
  readRulesDir,
  runRuleTests,
  triggerPeriods,
} from '../../../src/domain/rules/index.ts';
import { strictPathResolver } from '../../../src/domain/rules/reference.ts';
import type { FactValues, SubjectKind } from '../../../src/domain/types.ts';

const RULES = new URL('../../../rules', import.meta.url).pathname;
const set = loadPolicySet(RULES);
const evaluator = createReferenceEvaluator(set);

async function one(
  policy: string,
  kind: SubjectKind,
  period: string,
  facts: FactValues,
  subject = 's-1',
): Promise<Evaluation> {
  const [e] = await evaluator.evaluate({ subject, kind, facts }, period, { policy });
  if (!e) throw new Error(`no evaluation of ${policy}`);
  return e;
}

describe('Function: createReferenceEvaluator', () => {
  describe('Method: evaluate (the test cases beside the rules)', () => {
    const content = readRulesDir(RULES);
    const cases = [...content.tests].flatMap(([policy, t]) => t.cases.map((c) => ({ policy, ...c })));

    it('has at least 8 cases for each of the seven policies', () => {
      expect(content.tests.size).toBe(7);
      for (const [, t] of content.tests) expect(t.cases.length).toBeGreaterThanOrEqual(8);
    });

    it.each(cases.map((c) => [`${c.policy}: ${c.name}`, c] as const))('decides %s', async (_, c) => {
      // Act
      const e = await one(c.policy, c.kind, c.period, c.facts);
      // Assess
      expect({ outcome: e.outcome, amount: e.amount }).toEqual({
        outcome: c.expected.outcome,
        amount: c.expected.amount,
      });
      if (c.expected.reasons) expect(e.reasons).toEqual(c.expected.reasons);
    });

    it('passes them all through runRuleTests', async () => {
      const report = await runRuleTests(RULES);
      expect(report).toMatchObject({ failed: 0, problems: [] });
      expect(report.passed).toBe(cases.length);
    });
  });

  describe('Method: evaluate', () => {
    it('evaluates year policies for a year and month policies for a month, of the subject kind only', async () => {
      const person = {
        subject: 'p',
        kind: 'person' as const,
        facts: { birthDate: '1940-01-01', hukouRegion: '110101' },
      };
      expect((await evaluator.evaluate(person, '2025')).map((e) => e.policy)).toEqual(['childcare-subsidy']);
      expect((await evaluator.evaluate(person, '2025-03')).map((e) => e.policy)).toEqual([
        'disability-living-subsidy',
        'disability-nursing-subsidy',
        'elderly-allowance',
      ]);
      const firm = { subject: 'e', kind: 'enterprise' as const, facts: {} };
      expect((await evaluator.evaluate(firm, '2025-03')).map((e) => e.policy)).toEqual([]);
      expect((await evaluator.evaluate(firm, '2025')).map((e) => e.policy)).toEqual([
        'job-stabilization-refund',
        'six-taxes-two-fees',
        'small-low-profit-cit',
      ]);
    });

    it('rejects an invalid period', async () => {
      await expect(
        evaluator.evaluate({ subject: 'p', kind: 'person', facts: {} }, '2025-13'),
      ).rejects.toThrow(/invalid period/);
    });

    it('does not grant when the engine alone would (notEqual on an unknown fact is true in json-rules-engine)', async () => {
      // childcare's "hukouRegion != null" is true for an undefined value inside json-rules-engine
      const e = await one('childcare-subsidy', 'person', '2025', { birthDate: '2025-01-01' });
      expect(e).toMatchObject({
        outcome: 'not-eligible',
        amount: null,
        reasons: ['missing-fact:hukouRegion'],
      });
    });

    it('does not read a malformed death date or expiry as absent', async () => {
      const base = { birthDate: '1940-01-01', hukouRegion: '110101', disabilityLevel: 1 };
      const dead = await one('elderly-allowance', 'person', '2025-03', { ...base, deathDate: '2025-02-30' });
      expect(dead).toMatchObject({ outcome: 'not-eligible', reasons: ['missing-fact:deathDate'] });
      const cert = await one('disability-nursing-subsidy', 'person', '2025-03', {
        ...base,
        disabilityCertValidUntil: 20250301,
      });
      expect(cert).toMatchObject({
        outcome: 'not-eligible',
        reasons: ['missing-fact:disabilityCertValidUntil'],
      });
    });

    it('names the rule version and the facts the decision rests on', async () => {
      const e = await one('elderly-allowance', 'person', '2025-03', {
        birthDate: '1940-01-01',
        hukouRegion: '110101',
        guardians: ['x'],
      });
      expect(e.ruleVersion).toBe('1.0.0');
      expect(e.factsUsed).toEqual(['hukouRegion', 'birthDate']);
      const t = await one('six-taxes-two-fees', 'enterprise', '2025', {
        vatTaxpayerType: 'small-scale',
        enterpriseType: 'company',
        localTaxesDue: { '2025': 10 },
      });
      expect(t.factsUsed).toEqual(['localTaxesDue#2025', 'vatTaxpayerType']);
    });

    it('includes the facts of a policy it depends on', async () => {
      const e = await one('six-taxes-two-fees', 'enterprise', '2025', {
        vatTaxpayerType: 'general',
        enterpriseType: 'company',
        localTaxesDue: { '2025': 10 },
        industryRestricted: { '2025': false },
        taxableIncome: { '2025': 100 },
        employeesAvg: { '2025': 1 },
        totalAssetsAvg: { '2025': 1 },
      });
      expect(e.outcome).toBe('eligible');
      expect(e.factsUsed).toEqual([
        'localTaxesDue#2025',
        'enterpriseType',
        'industryRestricted#2025',
        'taxableIncome#2025',
        'employeesAvg#2025',
        'totalAssetsAvg#2025',
      ]);
      expect(e.explanation.dependsOn.map((d) => [d.policy, d.outcome])).toEqual([
        ['small-low-profit-cit', 'eligible'],
      ]);
    });

    it('plans notifications to the subject, or to the guardians of a child', async () => {
      const e = await one(
        'elderly-allowance',
        'person',
        '2025-03',
        { birthDate: '1940-01-01', hukouRegion: '110101' },
        'old-1',
      );
      expect(e.notification).toEqual({ templateIds: ['elderly-allowance.granted'], recipients: ['old-1'] });
      const c = await one('childcare-subsidy', 'person', '2025', {
        birthDate: '2025-01-01',
        hukouRegion: '310101',
        guardians: ['g1', 'g2'],
      });
      expect(c.notification?.recipients).toEqual(['g1', 'g2']);
    });

    it('says so when a child has no guardians to notify', async () => {
      const c = await one('childcare-subsidy', 'person', '2025', {
        birthDate: '2025-01-01',
        hukouRegion: '310101',
      });
      expect(c.outcome).toBe('eligible');
      expect(c.notification).toEqual({
        templateIds: ['childcare-subsidy.granted'],
        recipients: [],
        note: 'no guardians on record: nobody is notified',
      });
      expect(c.explanation.lines.at(-1)).toBe('  notification: no guardians on record, nobody is notified');
    });

    it('gives no notification when not eligible', async () => {
      const e = await one('elderly-allowance', 'person', '2025-03', {
        birthDate: '1990-01-01',
        hukouRegion: '110101',
      });
      expect(e.notification).toBeNull();
    });
  });

  describe('Method: evaluate (explanations)', () => {
    it('shows restricted values only as the outcome of the comparison', async () => {
      // Prepare: values that would be easy to find in the output
      const facts = {
        enterpriseType: 'company',
        vatTaxpayerType: 'general',
        industryRestricted: { '2025': false },
        taxableIncome: { '2025': 123456789 },
        employeesAvg: { '2025': 42 },
        totalAssetsAvg: { '2025': 987654321 },
        localTaxesDue: { '2025': 55555 },
      };
      // Act
      const e = await one('six-taxes-two-fees', 'enterprise', '2025', facts);
      const json = JSON.stringify(e.explanation);
      // Assess
      for (const secret of ['123456789', '987654321', '55555']) expect(json).not.toContain(secret);
      const cit = e.explanation.dependsOn[0]!;
      const texts = cit.conditions.map((c) => c.text);
      expect(texts).toContain('taxableIncome <= 300000000: true');
      expect(texts).toContain('totalAssetsAvg <= 5000000000: true');
      expect(texts).toContain('employeesAvg (42) <= 300: true');
      expect(cit.conditions.find((c) => c.fact === 'taxableIncome')).not.toHaveProperty('shown');
      expect(cit.conditions.find((c) => c.fact === 'employeesAvg')).toHaveProperty('shown', 42);
    });

    it('never shows secret disability or dibao values, nor the birth date', async () => {
      const facts = {
        birthDate: '1944-02-29',
        hukouRegion: '110101',
        disabilityLevel: 3,
        dibaoEnrolled: true,
      };
      const e = await one('disability-living-subsidy', 'person', '2025-03', facts);
      expect(e.outcome).toBe('eligible');
      const level = e.explanation.conditions.find((c) => c.fact === 'disabilityLevel')!;
      expect(level).not.toHaveProperty('shown');
      expect(level.text).toBe('disabilityLevel in [1,2,3,4]: true');
      const dibao = e.explanation.conditions.find((c) => c.fact === 'dibaoEnrolled')!;
      expect(dibao.text).toBe('dibaoEnrolled == true: true');
      expect(dibao).not.toHaveProperty('shown');
      const region = e.explanation.conditions.find((c) => c.fact === 'hukouRegion')!;
      expect(region).toMatchObject({
        shown: '110101',
        text: 'hukouRegion ("110101") starts with "11": true',
      });
      const elderly = await one('elderly-allowance', 'person', '2025-03', facts);
      expect(JSON.stringify(elderly.explanation)).not.toContain('1944');
    });

    it('names each parameter with its value and the date it is in force from', async () => {
      const e = await one('elderly-allowance', 'person', '2025-03', {
        birthDate: '1935-03-01',
        hukouRegion: '110101',
      });
      expect(e.explanation.parameters).toEqual([
        { name: 'elderly.amount.90-99', value: 50000, from: '2024-01-01' },
        { name: 'elderly.min-age', value: 80, from: '2024-01-01' },
        { name: 'municipal.hukou-region-prefix', value: '11', from: '2024-01-01' },
      ]);
      const age = e.explanation.conditions.find((c) => c.name === 'age-below-80')!;
      expect(age.threshold).toEqual({
        value: 80,
        param: { name: 'elderly.min-age', value: 80, from: '2024-01-01' },
      });
      expect(e.explanation.ruleHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('explains a period outside the window with that reason only', async () => {
      const e = await one('small-low-profit-cit', 'enterprise', '2022', {});
      expect(e.reasons).toEqual(['outside-effective-period']);
      expect(e.explanation.effective).toEqual({ from: '2023', to: '2027', inside: false });
      expect(e.factsUsed).toEqual([]);
    });
  });

  describe('Property: unknown facts never grant', () => {
    const region11 = fc.integer({ min: 0, max: 9999 }).map((n) => `11${String(n).padStart(4, '0')}`);
    const date = (min: string, max: string) =>
      fc
        .date({ min: new Date(`${min}T00:00:00Z`), max: new Date(`${max}T00:00:00Z`), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    const y = <T>(v: T) => ({ '2025': v });

    // Profiles each policy grants, with period.
    const eligible: Record<string, { kind: SubjectKind; period: string; facts: fc.Arbitrary<FactValues> }> = {
      'elderly-allowance': {
        kind: 'person',
        period: '2025-03',
        facts: fc.record({ birthDate: date('1900-01-01', '1945-03-01'), hukouRegion: region11 }),
      },
      'disability-nursing-subsidy': {
        kind: 'person',
        period: '2025-03',
        facts: fc.record(
          {
            hukouRegion: region11,
            disabilityLevel: fc.constantFrom(1, 2),
            disabilityCertValidUntil: date('2025-03-01', '2030-01-01'),
          },
          { requiredKeys: ['hukouRegion', 'disabilityLevel'] },
        ),
      },
      'disability-living-subsidy': {
        kind: 'person',
        period: '2025-03',
        facts: fc.record({
          hukouRegion: region11,
          disabilityLevel: fc.constantFrom(1, 2, 3, 4),
          dibaoEnrolled: fc.constant(true),
        }),
      },
      'childcare-subsidy': {
        kind: 'person',
        period: '2025',
        facts: fc.record({
          birthDate: date('2022-02-01', '2025-12-31'),
          hukouRegion: fc.constantFrom('110101', '440305'),
        }),
      },
      'small-low-profit-cit': {
        kind: 'enterprise',
        period: '2025',
        facts: fc.record({
          enterpriseType: fc.constant('company'),
          industryRestricted: fc.constant(y(false)),
          taxableIncome: fc.integer({ min: 1, max: 300000000 }).map(y),
          employeesAvg: fc.integer({ min: 0, max: 300 }).map(y),
          totalAssetsAvg: fc.integer({ min: 0, max: 5000000000 }).map(y),
        }),
      },
      'six-taxes-two-fees': {
        kind: 'enterprise',
        period: '2025',
        facts: fc.oneof(
          fc.record({
            vatTaxpayerType: fc.constant('small-scale'),
            localTaxesDue: fc.integer({ min: 1, max: 1e9 }).map(y),
          }),
          fc.record({
            enterpriseType: fc.constant('individual-business'),
            localTaxesDue: fc.integer({ min: 1, max: 1e9 }).map(y),
          }),
          fc.record({
            vatTaxpayerType: fc.constant('general'),
            enterpriseType: fc.constant('company'),
            localTaxesDue: fc.integer({ min: 1, max: 1e9 }).map(y),
            industryRestricted: fc.constant(y(false)),
            taxableIncome: fc.integer({ min: 1, max: 300000000 }).map(y),
            employeesAvg: fc.integer({ min: 0, max: 300 }).map(y),
            totalAssetsAvg: fc.integer({ min: 0, max: 5000000000 }).map(y),
          }),
        ),
      },
      'job-stabilization-refund': {
        kind: 'enterprise',
        period: '2025',
        facts: fc
          .record({
            headcount: fc.integer({ min: 1, max: 5000 }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
          })
          .chain(({ headcount, share }) => {
            const max =
              headcount <= 30 ? Math.floor((2 * headcount) / 10) : Math.floor((55 * headcount) / 1000);
            return fc.record({
              uiPremiumsPaid: fc.integer({ min: 1, max: 1e10 }).map(y),
              uiArrears: fc.constant(y(false)),
              uiInsuredHeadcount: fc.constant(y(headcount)),
              uiLayoffs: fc.constant(y(Math.floor(share * max))),
              enterpriseSize: fc.constantFrom('large', 'medium', 'small', 'micro').map(y),
            });
          }),
      },
    };

    /** Removes a fact key (`name` or `name#YYYY`) from a profile. */
    const without = (facts: FactValues, key: string): FactValues => {
      const [name, year] = key.split('#') as [string, string | undefined];
      const copy: FactValues = structuredClone(facts);
      if (year === undefined) delete copy[name];
      else delete (copy[name] as Record<string, unknown>)[year];
      return copy;
    };

    for (const [policy, spec] of Object.entries(eligible)) {
      it(`removing any needed fact from a ${policy} grant gives not-eligible with missing-fact`, async () => {
        await fc.assert(
          fc.asyncProperty(spec.facts, async (facts) => {
            const granted = await one(policy, spec.kind, spec.period, facts);
            expect(granted.outcome).toBe('eligible');
            // Facts whose absence has a meaning (no death date, no expiry) are not unknown when absent.
            const needed = granted.factsUsed.filter(
              (k) => factDefinition(k.split('#')[0]!)?.absentMeans === undefined,
            );
            expect(needed.length).toBeGreaterThan(0);
            for (const key of needed) {
              const e = await one(policy, spec.kind, spec.period, without(facts, key));
              expect(e.outcome).toBe('not-eligible');
              expect(e.amount).toBeNull();
              expect(e.reasons).toContain(`missing-fact:${key.split('#')[0]}`);
            }
          }),
          { numRuns: 40 },
        );
      });
    }

    it('never grants from arbitrary partial profiles unless every needed fact is known', async () => {
      const anyFacts = fc.record(
        {
          enterpriseType: fc.constantFrom('company', 'individual-business'),
          vatTaxpayerType: fc.constantFrom('small-scale', 'general'),
          industryRestricted: fc.boolean().map(y),
          taxableIncome: fc.integer({ min: -1e9, max: 1e9 }).map(y),
          employeesAvg: fc.integer({ min: 0, max: 400 }).map(y),
          totalAssetsAvg: fc.integer({ min: 0, max: 6e9 }).map(y),
          localTaxesDue: fc.integer({ min: 0, max: 1e6 }).map(y),
          uiPremiumsPaid: fc.integer({ min: 0, max: 1e6 }).map(y),
          uiArrears: fc.boolean().map(y),
          uiInsuredHeadcount: fc.integer({ min: 0, max: 100 }).map(y),
          uiLayoffs: fc.integer({ min: 0, max: 10 }).map(y),
          enterpriseSize: fc.constantFrom('large', 'small').map(y),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(anyFacts, async (facts) => {
          for (const e of await evaluator.evaluate({ subject: 'x', kind: 'enterprise', facts }, '2025')) {
            if (e.outcome !== 'eligible') continue;
            for (const key of e.factsUsed) {
              const [name, year] = key.split('#') as [string, string | undefined];
              const value = (facts as Record<string, Record<string, unknown>>)[name];
              expect(year === undefined ? value : value?.[year]).toBeDefined();
            }
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('Function: strictPathResolver', () => {
  it('reads dotted own properties', () => {
    expect(strictPathResolver({ a: { b: 3 } }, 'a.b')).toBe(3);
    expect(strictPathResolver({ a: {} }, 'a.toString')).toBeUndefined();
  });
  it('refuses JSONPath expressions and prototype segments', () => {
    expect(() => strictPathResolver({}, '$..[?(@.x)]')).toThrow(/refused/);
    expect(() => strictPathResolver({}, 'a.__proto__')).toThrow(/refused/);
    expect(() => strictPathResolver({}, 'constructor')).toThrow(/refused/);
  });
});

describe('Function: triggerPeriods', () => {
  it('takes the China-time month and year for persons', () => {
    // 2025-03-31T16:30Z is 00:30 on 1 April in China
    const now = new Date('2025-03-31T16:30:00Z');
    expect(triggerPeriods(set, 'person', {}, now)).toEqual([
      { policy: 'childcare-subsidy', period: '2025' },
      { policy: 'disability-living-subsidy', period: '2025-04' },
      { policy: 'disability-nursing-subsidy', period: '2025-04' },
      { policy: 'elderly-allowance', period: '2025-04' },
    ]);
  });
  it('leaves out periods before a window opens', () => {
    expect(triggerPeriods(set, 'person', {}, new Date('2024-06-15T00:00:00Z')).map((p) => p.policy)).toEqual([
      'disability-living-subsidy',
      'disability-nursing-subsidy',
      'elderly-allowance',
    ]);
  });
  it('takes every year with a per-year fact for enterprises, within each window', () => {
    const facts = {
      enterpriseType: 'company',
      taxableIncome: { '2021': 1, '2025': 2 },
      uiPremiumsPaid: { '2022': 1 },
      localTaxesDue: { '2028': 5 },
    };
    expect(triggerPeriods(set, 'enterprise', facts, new Date('2026-01-01T00:00:00Z'))).toEqual([
      { policy: 'job-stabilization-refund', period: '2022' },
      { policy: 'job-stabilization-refund', period: '2025' },
      { policy: 'six-taxes-two-fees', period: '2025' },
      { policy: 'small-low-profit-cit', period: '2025' },
    ]);
  });
});

describe('Function: periodsOpenedAt', () => {
  it('opens the current month of month policies and the current year of the childcare subsidy', () => {
    expect(periodsOpenedAt(set, new Date('2025-01-01T00:00:00+08:00'))).toEqual([
      { policy: 'childcare-subsidy', period: '2025' },
      { policy: 'disability-living-subsidy', period: '2025-01' },
      { policy: 'disability-nursing-subsidy', period: '2025-01' },
      { policy: 'elderly-allowance', period: '2025-01' },
    ]);
  });
  it('still counts the last minute of December as the old year in China', () => {
    expect(periodsOpenedAt(set, new Date('2024-12-31T23:59:00+08:00'))).toEqual([
      { policy: 'disability-living-subsidy', period: '2024-12' },
      { policy: 'disability-nursing-subsidy', period: '2024-12' },
      { policy: 'elderly-allowance', period: '2024-12' },
    ]);
  });
});
