/**
 * Validator checks added after the rule-author audit: test-case facts checked as `pb evaluate`
 * checks them, comparison values checked against the fact's type, amounts that validate but are
 * wrong, and messages (byte order mark, missing link, `not`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProfileLine } from '../../../src/cli/commands/evaluate.ts';
import { DERIVED_FACTS } from '../../../src/domain/facts/derived.ts';
import { readRulesDir, runRuleTests, validateRulesDir } from '../../../src/domain/rules/index.ts';
import { DERIVED_FACT_TYPES, factTypeOf } from '../../../src/domain/rules/validate.ts';

const RULES = join(import.meta.dirname, '../../../rules');
const dirs: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: tests reach into rule JSON freely
type Json = any;

/** A copy of the real rules directory, with files changed by `edits` (file name → edit). */
function copyWith(edits: Record<string, (json: Json) => void>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pb-rules-audit-'));
  dirs.push(dir);
  cpSync(RULES, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    const json = JSON.parse(readFileSync(path, 'utf8')) as Json;
    edit(json);
    writeFileSync(path, JSON.stringify(json, null, 2));
  }
  return dir;
}

/** `<file>: <path>: <message>` of every problem, the directory left out. */
const lines = (dir: string): string[] =>
  validateRulesDir(dir).map((p) => `${p.file}: ${p.path}: ${p.message}`);

/** Adds a condition to the `all` of a policy. */
const addCondition = (leaf: Json) => (j: Json) => {
  j.conditions.all.push(leaf);
};

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Function: validateRulesDir (test-case facts)', () => {
  const base = { birthDate: '1940-03-01', hukouRegion: '110105' };
  const bad: Array<[string, string, unknown]> = [
    ['a date with slashes', 'birthDate', '1940/01/01'],
    ['an impossible date', 'birthDate', '1951-02-30'],
    ['a region code as a number', 'hukouRegion', 110101],
    ['a boolean as text', 'dibaoEnrolled', 'yes'],
    ['a disability level out of range', 'disabilityLevel', 5],
    ['a list of guardians as text', 'guardians', 'g-1'],
  ];
  for (const [what, fact, value] of bad) {
    it(`reports ${what} with the message pb evaluate gives`, () => {
      const facts = { ...base, [fact]: value };
      const dir = copyWith({
        'elderly-allowance.test.json': (j) => {
          j[2].facts = facts;
        },
      });
      const evaluate = parseProfileLine(JSON.stringify({ subject: 's', kind: 'person', facts }));
      const problems = evaluate.ok ? (evaluate.problems ?? []) : [];
      expect(problems).toHaveLength(1);
      expect(lines(dir)).toEqual([`elderly-allowance.test.json: $[2].facts.${fact}: ${problems[0]}`]);
    });
  }

  it('reports a per-year fact given as a plain number', () => {
    const dir = copyWith({
      'small-low-profit-cit.test.json': (j) => {
        j[0].facts.taxableIncome = 100;
      },
    });
    expect(lines(dir)).toEqual([
      'small-low-profit-cit.test.json: $[0].facts.taxableIncome: fact taxableIncome is per year: give an object keyed by year, e.g. {"2025": …}',
    ]);
  });

  it('reports a bad value for one year of a per-year fact', () => {
    const dir = copyWith({
      'small-low-profit-cit.test.json': (j) => {
        j[0].facts.employeesAvg = { 2025: 'many' };
      },
    });
    expect(lines(dir)).toEqual([
      'small-low-profit-cit.test.json: $[0].facts.employeesAvg: fact employeesAvg for 2025 must be a whole number',
    ]);
  });

  it('reports an unknown fact name and a fact of the other subject kind', () => {
    const dir = copyWith({
      'elderly-allowance.test.json': (j) => {
        j[0].facts.birthdate = '1940-01-01';
        j[1].facts.taxableIncome = { 2025: 1 };
      },
    });
    expect(lines(dir)).toEqual([
      "elderly-allowance.test.json: $[0].facts.birthdate: unknown fact 'birthdate' (not in the fact catalogue of benefits.md; pb evaluate ignores it); did you mean 'birthDate'?",
      'elderly-allowance.test.json: $[1].facts.taxableIncome: fact taxableIncome describes enterprises; this case is about a person',
    ]);
  });

  it('accepts a malformed value when the case expects it to be missing, and the case passes', async () => {
    const dir = copyWith({
      'elderly-allowance.test.json': (j) => {
        j.push({
          name: 'a malformed birth date is unknown',
          kind: 'person',
          period: '2025-03',
          facts: { birthDate: '1940/03/01', hukouRegion: '110105' },
          expected: { outcome: 'not-eligible', amount: null, reasons: ['missing-fact:birthDate'] },
        });
      },
    });
    expect(lines(dir)).toEqual([]);
    const report = await runRuleTests(dir);
    expect(report.failures).toEqual([]);
  });

  it('still reports a malformed value when the case expects another fact missing', () => {
    const dir = copyWith({
      'elderly-allowance.test.json': (j) => {
        j.push({
          name: 'x',
          kind: 'person',
          period: '2025-03',
          facts: { birthDate: '1940/03/01' },
          expected: { outcome: 'not-eligible', amount: null, reasons: ['missing-fact:hukouRegion'] },
        });
      },
    });
    expect(lines(dir)).toEqual([
      `elderly-allowance.test.json: $[${readRulesDir(RULES).tests.get('elderly-allowance')!.cases.length}].facts.birthDate: fact birthDate must be a calendar date YYYY-MM-DD`,
    ]);
  });
});

describe('Function: validateRulesDir (values against the fact type)', () => {
  const cases: Array<[string, Json, string]> = [
    [
      'equal with a value of another JSON type',
      { name: 'x', fact: 'aliveOnPeriodStart', operator: 'equal', value: 'true' },
      '$.conditions.all[3].value: "true" is not a possible value of aliveOnPeriodStart (must be true or false)',
    ],
    [
      'notEqual with a number on a date fact',
      { name: 'x', fact: 'birthDate', operator: 'notEqual', value: 1940 },
      '$.conditions.all[3].value: 1940 is not a possible value of birthDate (must be a calendar date YYYY-MM-DD)',
    ],
    [
      'equal with a region code that is not 6 digits',
      { name: 'x', fact: 'hukouRegion', operator: 'equal', value: '11' },
      '$.conditions.all[3].value: "11" is not a possible value of hukouRegion (must be a 6-digit region code)',
    ],
    [
      'a startsWith prefix no region code has',
      { name: 'x', fact: 'hukouRegion', operator: 'startsWith', value: '1l' },
      '$.conditions.all[3].value: hukouRegion never starts with "1l" (it is a 6-digit region code)',
    ],
    [
      'startsWith on a numeric fact',
      { name: 'x', fact: 'ageOnPeriodStart', operator: 'startsWith', value: '7' },
      '$.conditions.all[3].operator: operator startsWith compares texts: ageOnPeriodStart is a whole number',
    ],
    [
      'contains on a numeric fact',
      { name: 'x', fact: 'disabilityLevel', operator: 'contains', value: 1 },
      '$.conditions.all[3].operator: operator contains looks for an element of a list: disabilityLevel is a whole number',
    ],
    [
      'a number compared with a boolean fact',
      { name: 'x', fact: 'dibaoEnrolled', operator: 'greaterThan', value: 0 },
      '$.conditions.all[3].operator: operator greaterThan compares numbers: dibaoEnrolled is true or false',
    ],
    [
      'equal on a list fact',
      { name: 'x', fact: 'guardians', operator: 'equal', value: 'g-1' },
      '$.conditions.all[3].operator: guardians is a list of person ids: compare its elements with contains or doesNotContain',
    ],
    [
      'equal with an integer out of the fact bounds',
      { name: 'x', fact: 'disabilityLevel', operator: 'equal', value: 0 },
      '$.conditions.all[3].value: 0 is not a possible value of disabilityLevel (must be at least 1)',
    ],
    [
      'a derived fact with bounds',
      { name: 'x', fact: 'countedMonths', operator: 'equal', value: 13 },
      '$.conditions.all[3].value: 13 is not a possible value of countedMonths (must be at most 12)',
    ],
    [
      'eligibility compared with text',
      { name: 'x', fact: 'eligibleFor:disability-nursing-subsidy', operator: 'equal', value: 'yes' },
      '$.conditions.all[3].value: "yes" is not a possible value of eligibleFor:disability-nursing-subsidy (must be true or false)',
    ],
  ];
  for (const [what, leaf, problem] of cases) {
    it(`reports ${what}`, () => {
      const dir = copyWith({ 'elderly-allowance.json': addCondition(leaf) });
      expect(lines(dir)).toEqual([`elderly-allowance.json: ${problem}`]);
    });
  }

  it('reports each element of an in list of the wrong type or out of bounds', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.conditions.all.push({ name: 'x', fact: 'ageOnPeriodStart', operator: 'in', value: ['75', 76] });
        j.conditions.all.push({ name: 'y', fact: 'disabilityLevel', operator: 'notIn', value: [1, 5] });
        j.conditions.all.push({ name: 'z', fact: 'vatTaxpayerType', operator: 'in', value: ['general'] });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.conditions.all[3].value[0]: "75" is not a possible value of ageOnPeriodStart (must be a whole number)',
      'elderly-allowance.json: $.conditions.all[4].value[1]: 5 is not a possible value of disabilityLevel (must be at most 4)',
      'elderly-allowance.json: $.conditions.all[5].fact: fact vatTaxpayerType describes enterprises; this policy decides for persons',
    ]);
  });

  it('reports an enum value outside the enum', () => {
    const dir = copyWith({
      'small-low-profit-cit.json': (j) => {
        j.conditions.all[0].value = 'compnay';
      },
    });
    expect(lines(dir)).toEqual([
      'small-low-profit-cit.json: $.conditions.all[0].value: "compnay" is not a possible value of enterpriseType (must be one of company, individual-business)',
    ]);
  });

  it('checks the values of a parameter compared with the fact', () => {
    const dir = copyWith({
      'elderly-allowance.json': addCondition({
        name: 'x',
        fact: 'dibaoEnrolled',
        operator: 'equal',
        value: { param: 'elderly.min-age' },
      }),
      'params/municipal.json': (j) => {
        j.parameters[0].values.push({ from: '2026-01-01', value: '1x' });
      },
    });
    expect(lines(dir)).toEqual([
      'disability-living-subsidy.json: $.conditions.all[0].value.param: parameter municipal.hukou-region-prefix holds "1x" from 2026-01-01, which hukouRegion can never start with (it is a 6-digit region code)',
      'disability-nursing-subsidy.json: $.conditions.all[0].value.param: parameter municipal.hukou-region-prefix holds "1x" from 2026-01-01, which hukouRegion can never start with (it is a 6-digit region code)',
      'elderly-allowance.json: $.conditions.all[0].value.param: parameter municipal.hukou-region-prefix holds "1x" from 2026-01-01, which hukouRegion can never start with (it is a 6-digit region code)',
      'elderly-allowance.json: $.conditions.all[3].value.param: parameter elderly.min-age holds 80 from 2024-01-01, which dibaoEnrolled can never be (must be true or false)',
    ]);
  });

  it('reports a tier in-list of the wrong type', () => {
    const dir = copyWith({
      'disability-nursing-subsidy.json': (j) => {
        j.amount.tiers[1].in = ['2'];
      },
    });
    expect(lines(dir)).toEqual([
      'disability-nursing-subsidy.json: $.amount.tiers[1].in[0]: "2" is not a possible value of disabilityLevel (must be a whole number)',
    ]);
  });

  it('still accepts null ("known") comparisons and comparisons of a part of a fact (path)', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.conditions.all.push({ name: 'x', fact: 'birthDate', operator: 'notEqual', value: null });
        j.conditions.all.push({
          name: 'y',
          fact: 'guardians',
          path: '0',
          operator: 'notEqual',
          value: 'g-9',
        });
        j.conditions.all.push({ name: 'z', fact: 'guardians', operator: 'doesNotContain', value: 'g-2' });
      },
    });
    expect(lines(dir)).toEqual([]);
  });

  it('refuses a path into a fact that has no parts, and a path into a list that is no position', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.conditions.all.push({
          name: 'x',
          fact: 'dibaoEnrolled',
          path: 'foo.bar',
          operator: 'equal',
          value: true,
        });
        j.conditions.all.push({
          name: 'y',
          fact: 'guardians',
          path: 'first',
          operator: 'notEqual',
          value: 'g',
        });
      },
      'small-low-profit-cit.json': (j) => {
        j.conditions.all.push({
          name: 'z',
          fact: 'taxableIncome',
          path: '2025',
          operator: 'greaterThan',
          value: 0,
        });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.conditions.all[3].path: fact dibaoEnrolled has no parts for a path to read (it is a single value): remove the path',
      "elderly-allowance.json: $.conditions.all[4].path: 'first' is not a position in the list guardians: a path into a list is an index (0, 1, …)",
      "small-low-profit-cit.json: $.conditions.all[6].path: fact taxableIncome has no parts for a path to read (a per-year fact is read for the period's own year): remove the path",
    ]);
  });

  it('refuses contains and doesNotContain on a fact that is no list', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.conditions.all.push({ name: 'x', fact: 'hukouRegion', operator: 'contains', value: '11' });
        j.conditions.all.push({ name: 'y', fact: 'birthDate', operator: 'doesNotContain', value: '-' });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.conditions.all[3].operator: operator contains looks for an element of a list: hukouRegion is a 6-digit region code',
      expect.stringMatching(
        /^elderly-allowance\.json: \$\.conditions\.all\[4\]\.operator: operator doesNotContain looks for an element of a list: birthDate is /,
      ),
    ]);
  });

  it('refuses an expected reason the policy can never give, with the closest it can', () => {
    const dir = copyWith({
      'disability-living-subsidy.test.json': (j) => {
        j[3].expected.reasons = ['not-dibao', 'missing-fact:taxableIncome', 'missing-parameter:nope'];
      },
    });
    expect(lines(dir)).toEqual([
      "disability-living-subsidy.test.json: $[3].expected.reasons[0]: 'not-dibao' is no reason disability-living-subsidy can give: not the name of one of its conditions; did you mean 'not-dibao-enrolled'?",
      "disability-living-subsidy.test.json: $[3].expected.reasons[1]: 'missing-fact:taxableIncome': taxableIncome is no fact of a person",
      "disability-living-subsidy.test.json: $[3].expected.reasons[2]: 'missing-parameter:nope': no parameter nope is defined",
    ]);
  });

  it('has a value type for every derived fact', () => {
    for (const d of DERIVED_FACTS) expect(DERIVED_FACT_TYPES[d.name], d.name).toBeDefined();
    expect(factTypeOf('eligibleFor:x')).toEqual({ kind: 'boolean' });
    expect(factTypeOf('toString')).toBeUndefined();
  });
});

describe('Function: validateRulesDir (amounts)', () => {
  it('reports a negative fixed amount', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers[2].amount.value = -100;
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.amount.tiers[2].amount.value: must not be negative: an amount is paid to the subject, never taken (fen >= 0)',
    ]);
  });

  it('reports a parameter with a negative value used as an amount', () => {
    const dir = copyWith({
      'params/disability.json': (j) => {
        j.parameters[2].values.push({ from: '2026-01-01', value: -10000 });
      },
    });
    expect(lines(dir)).toEqual([
      'disability-living-subsidy.json: $.amount.value.param: parameter disability-living.amount holds -10000 from 2026-01-01: must not be negative: an amount is paid to the subject, never taken (fen >= 0)',
    ]);
  });

  it('reports a negative percentage and a parameter denominator that is not positive', () => {
    const dir = copyWith({
      'small-low-profit-cit.json': (j) => {
        j.amount.numerator = -20;
        j.amount.denominator = { param: 'small-low-profit-cit.max-employees' };
      },
      'params/small-low-profit-cit.json': (j) => {
        const p = j.parameters.find((x: Json) => x.name === 'small-low-profit-cit.max-employees');
        p.values[0].value = 0;
      },
    });
    expect(lines(dir)).toEqual([
      'small-low-profit-cit.json: $.amount.numerator: must not be negative: an amount is paid to the subject, never taken (fen >= 0)',
      expect.stringMatching(
        /^small-low-profit-cit\.json: \$\.amount\.denominator\.param: parameter small-low-profit-cit\.max-employees holds 0 from \d{4}-\d\d-\d\d: must be positive$/,
      ),
    ]);
  });

  it('reports a tier whose min is above its max', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers[1].min = 99;
        j.amount.tiers[1].max = 90;
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.amount.tiers[1]: min 99 is greater than max 90: the tier matches nothing',
    ]);
  });

  it('reports a tier that earlier tiers cover (first match wins)', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers.push({ min: 95, max: 120, amount: { kind: 'fixed', value: 1 } });
      },
      'disability-nursing-subsidy.json': (j) => {
        j.amount.tiers.push({ in: [2, 1], amount: { kind: 'fixed', value: 1 } });
      },
    });
    expect(lines(dir)).toEqual([
      'disability-nursing-subsidy.json: $.amount.tiers[2]: can never be chosen: tiers are first-match and earlier tiers already match every value it matches',
      'elderly-allowance.json: $.amount.tiers[3]: can never be chosen: tiers are first-match and earlier tiers already match every value it matches (parameter values in force on 2024-01-01)',
    ]);
  });

  it('reports a tier behind an earlier tier open upwards (min only)', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers.push({ min: 105, amount: { kind: 'fixed', value: 1 } });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.amount.tiers[3]: can never be chosen: tiers are first-match and earlier tiers already match every value it matches (parameter values in force on 2024-01-01)',
    ]);
  });

  it('reports a tier a parameter change makes unreachable, with the date', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers[0].max = { param: 'elderly.upper' };
      },
      'params/elderly-allowance.json': (j) => {
        j.parameters.push({
          name: 'elderly.upper',
          values: [
            { from: '2024-01-01', value: 89 },
            { from: '2026-01-01', value: 99 },
          ],
        });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.amount.tiers[1]: can never be chosen: tiers are first-match and earlier tiers already match every value it matches (parameter values in force on 2026-01-01)',
    ]);
  });

  it('reports a tier a parameter change empties, with the date', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        // tier 0: [elderly.min-age, 89]; tier 1 becomes [85, 89]
        j.amount.tiers[1].min = 85;
        j.amount.tiers[1].max = 89;
        j.amount.tiers[0].max = 84;
      },
      'params/elderly-allowance.json': (j) => {
        j.parameters[0].values.push({ from: '2026-01-01', value: 90 });
      },
    });
    // From 2026 tier 0 is [90, 84]: empty; tier 1 still reachable. Nothing is shadowed.
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.amount.tiers[0]: min 90 is greater than max 84: the tier matches nothing (parameter values in force on 2026-01-01)',
    ]);
  });

  it('accepts tiers that only overlap partly', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.amount.tiers.splice(2, 0, { min: 95, max: 120, amount: { kind: 'fixed', value: 1 } });
      },
    });
    expect(lines(dir)).toEqual([]);
  });

  it('reports perCountedMonth in a month-unit policy', () => {
    const dir = copyWith({
      'childcare-subsidy.json': (j) => {
        j.periodUnit = 'month';
        j.effective.from = '2025-01';
      },
    });
    expect(lines(dir)).toEqual([
      'childcare-subsidy.json: $.amount.kind: perCountedMonth pays for the counted months of a year; this policy is decided per month: use fixed (and a countedMonths condition)',
    ]);
  });

  it('warns, without a problem, about a policy without test cases', () => {
    const dir = copyWith({});
    unlinkSync(join(dir, 'six-taxes-two-fees.test.json'));
    const content = readRulesDir(dir);
    expect(content.problems).toEqual([]);
    expect(content.warnings.map((w) => w.text)).toEqual([
      `${dir}/six-taxes-two-fees.json: $: no test cases: add six-taxes-two-fees.test.json beside it`,
    ]);
    expect(readRulesDir(RULES).warnings).toEqual([]);
  });

  it('warns, without a problem, about a test file with no cases in it', () => {
    const dir = copyWith({});
    writeFileSync(join(dir, 'six-taxes-two-fees.test.json'), '[]\n');
    const content = readRulesDir(dir);
    expect(content.problems).toEqual([]);
    expect(content.warnings.map((w) => w.text)).toEqual([
      `${dir}/six-taxes-two-fees.test.json: $: no test cases: the list is empty`,
    ]);
  });
});

describe('Function: validateRulesDir (messages)', () => {
  for (const file of ['small-low-profit-cit.json', 'params/municipal.json', 'elderly-allowance.test.json']) {
    it(`accepts a UTF-8 byte order mark at the start of ${file}`, () => {
      const dir = copyWith({});
      const path = join(dir, file);
      writeFileSync(path, `\uFEFF${readFileSync(path, 'utf8')}`);
      expect(lines(dir)).toEqual([]);
      expect(readRulesDir(dir).contentHash).toBe(readRulesDir(RULES).contentHash);
    });
  }

  it('says a missing legal link is required', () => {
    const dir = copyWith({
      'childcare-subsidy.json': (j) => {
        delete j.legalReference.link;
      },
    });
    expect(lines(dir)).toEqual(['childcare-subsidy.json: $.legalReference.link: is required']);
  });

  it('still says a link that is not http(s) must be one', () => {
    const dir = copyWith({
      'childcare-subsidy.json': (j) => {
        j.legalReference.link = 'ftp://example.org/x';
      },
    });
    expect(lines(dir)).toEqual(['childcare-subsidy.json: $.legalReference.link: must be an http(s) link']);
  });

  it('requires the name of a not and of the comparison inside it', () => {
    const dir = copyWith({
      'elderly-allowance.json': (j) => {
        j.conditions.all.push({ not: { name: 'in', fact: 'dibaoEnrolled', operator: 'equal', value: true } });
        j.conditions.all.push({
          name: 'out',
          not: { fact: 'dibaoEnrolled', operator: 'equal', value: true },
        });
      },
    });
    expect(lines(dir)).toEqual([
      'elderly-allowance.json: $.conditions.all[3].name: is required: the reason reported when the not-condition fails',
      'elderly-allowance.json: $.conditions.all[4].not.name: is required: the reason reported when the condition fails',
    ]);
  });
});
