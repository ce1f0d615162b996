import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicySet, readRulesDir, validateRulesDir } from '../../../src/domain/rules/index.ts';
import { datedValueProblems, valueInForce } from '../../../src/domain/rules/params.ts';

const RULES = join(import.meta.dirname, '../../../rules');
const dirs: string[] = [];

/** A copy of the real rules directory, with one file changed by `edit`. */
function brokenCopy(file: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'pb-rules-'));
  dirs.push(dir);
  cpSync(RULES, dir, { recursive: true });
  const path = join(dir, file);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(path, JSON.stringify(json, null, 2));
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: tests reach into rule JSON freely
type Json = any;
const conds = (j: Json) => j.conditions.all as Json[];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Function: validateRulesDir', () => {
  it('finds no problem in the shipped rules', () => {
    // Act
    const problems = validateRulesDir(RULES);
    // Assess
    expect(problems).toEqual([]);
  });

  it('reports an unknown fact in one line', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].fact = 'ageOnPeriodStrat';
    });
    expect(validateRulesDir(dir).map((p) => p.text)).toEqual([
      `${dir}/elderly-allowance.json: $.conditions.all[2].fact: unknown fact 'ageOnPeriodStrat' (not in the fact catalogue of benefits.md nor a derived fact); did you mean 'ageOnPeriodStart'?`,
    ]);
  });

  it('reports a fact of the other subject kind', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].fact = 'employeesAvg';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.conditions.all[2].fact: fact employeesAvg describes enterprises; this policy decides for persons',
    ]);
  });

  it('reports a typo in an operator', () => {
    const dir = brokenCopy('small-low-profit-cit.json', (j) => {
      conds(j)[3].operator = 'lessThanOrEqual';
    });
    const problems = validateRulesDir(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      file: 'small-low-profit-cit.json',
      path: '$.conditions.all[3].operator',
    });
    expect(problems[0]!.message).toMatch(/^unknown operator 'lessThanOrEqual' \(allowed: equal, notEqual, /);
  });

  it('refuses a parameter as the list of in/notIn (a string parameter would match substrings)', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[0].operator = 'in';
      conds(j)[0].value = { param: 'municipal.hukou-region-prefix' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.conditions.all[0].value: operator in needs an array of literals, not a parameter',
    ]);
  });

  it('keeps each problem on one line, whatever the file holds', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].fact = 'x\nrules/forged.json: $: forged problem';
    });
    const problems = validateRulesDir(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.text).not.toMatch(/\n/);
    expect(problems[0]!.text).toContain('x\\u000arules/forged.json');
  });

  it('refuses a condition tree nested too deeply instead of overflowing the stack', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      let node: Record<string, unknown> = {
        fact: 'hukouRegion',
        operator: 'equal',
        value: '110101',
        name: 'x',
      };
      for (let i = 0; i < 1000; i++) node = { all: [node] };
      (j as Record<string, unknown>).conditions = node;
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$: nested more than 64 levels deep',
    ]);
  });

  it('refuses json-rules-engine operator decorators', () => {
    const dir = brokenCopy('small-low-profit-cit.json', (j) => {
      conds(j)[3].operator = 'not:lessThanInclusive';
    });
    expect(validateRulesDir(dir).map((p) => p.path)).toEqual(['$.conditions.all[3].operator']);
  });

  it('reports a missing legal reference', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j) => {
      delete j.legalReference;
    });
    expect(validateRulesDir(dir).map((p) => p.text)).toEqual([
      `${dir}/childcare-subsidy.json: $.legalReference: is required`,
    ]);
  });

  it('says schema problems in its own words, not in those of the schema library', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j: Json) => {
      j.periodUnit = 'yearly';
      j.reviewSampleRate = 2;
      j.version = '2';
      j.notification.templateIds = [];
      j.subjectKind = 3;
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.version: "2" is a text: write the whole number without quotes (2), or semver as "2.0.0"',
      '$.subjectKind: must be one of "person", "enterprise"',
      '$.periodUnit: must be one of "year", "month"',
      '$.notification.templateIds: must have at least 1 element',
      '$.reviewSampleRate: must be at most 1',
    ]);
  });

  it('suggests the known fact, operator or parameter a misspelt name is closest to', () => {
    const dir = brokenCopy('disability-living-subsidy.json', (j: Json) => {
      conds(j)[4].fact = 'dibaoEnroled';
      conds(j)[1].operator = 'equals';
      conds(j)[0].fact = 'zzz';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "$.conditions.all[0].fact: unknown fact 'zzz' (not in the fact catalogue of benefits.md nor a derived fact)",
      expect.stringMatching(
        /^\$\.conditions\.all\[1\]\.operator: unknown operator 'equals'; did you mean 'equal'\? \(allowed: /,
      ),
      "$.conditions.all[4].fact: unknown fact 'dibaoEnroled' (not in the fact catalogue of benefits.md nor a derived fact); did you mean 'dibaoEnrolled'?",
    ]);
    const param = brokenCopy('elderly-allowance.json', (j: Json) => {
      j.amount.tiers[0].amount.value.param = 'elderly.amount.80-88';
    });
    expect(validateRulesDir(param).map((p) => p.message)).toEqual([
      "unknown parameter 'elderly.amount.80-88' (not defined in params/*.json); did you mean 'elderly.amount.80-89'?",
    ]);
  });

  it('says both ways to mend an id that does not match its file name', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j: Json) => {
      j.id = 'childcare';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.id: id childcare does not match the file name: set the id to childcare-subsidy, or rename the file to childcare.json (and its test cases to childcare.test.json)',
    ]);
  });

  it('warns of a parameter no rule reads (a misspelt name), without failing', () => {
    const dir = brokenCopy('params/elderly-allowance.json', (j: Json) => {
      j.parameters.push({ name: 'elderly.amount.80-88', values: [{ from: '2024-01-01', value: 1 }] });
    });
    const content = readRulesDir(dir);
    expect(content.problems).toEqual([]);
    expect(content.warnings.map((w) => `${w.file}: ${w.path}: ${w.message}`)).toEqual([
      'params/elderly-allowance.json: $.parameters[4].name: parameter elderly.amount.80-88 is read by no rule',
    ]);
  });

  it('still checks the effective window when a top-level field fails', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j: Json) => {
      delete j.legalReference;
      j.effective = { from: '2030', to: '2020-05' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.legalReference: is required',
      "$.effective.to: '2020-05' is not a year period (YYYY)",
    ]);
  });

  it('leaves a malformed window to the schema when the top level fails', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j: Json) => {
      j.version = '';
      j.effective = { from: 2030 };
    });
    expect(validateRulesDir(dir).map((p) => p.path)).toEqual(['$.version', '$.effective.from']);
  });

  it('reports an empty legal article', () => {
    const dir = brokenCopy('childcare-subsidy.json', (j: Json) => {
      j.legalReference.article = '';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.legalReference.article: must not be empty',
    ]);
  });

  it('reports overlapping dated values of a parameter', () => {
    const dir = brokenCopy('params/elderly-allowance.json', (j: Json) => {
      j.parameters[1].values = [
        { from: '2024-01-01', to: '2025-06-30', value: 10000 },
        { from: '2025-01-01', value: 12000 },
      ];
    });
    expect(validateRulesDir(dir).map((p) => p.text)).toEqual([
      `${dir}/params/elderly-allowance.json: $.parameters[1].values[1]: overlaps values[0], in force until 2025-06-30, from 2025-01-01`,
    ]);
  });

  it('reports two values in force from the same day', () => {
    const dir = brokenCopy('params/childcare-subsidy.json', (j: Json) => {
      j.parameters[0].values.push({ from: '2025-01-01', value: 1 });
    });
    expect(validateRulesDir(dir).map((p) => p.message)).toEqual([
      'overlaps values[0]: both in force from 2025-01-01',
    ]);
  });

  it('refuses a JSONPath expression in a condition path (CVE-2024-21534)', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[0].path = '$..[?(@.constructor.constructor("return process")())]';
    });
    const problems = validateRulesDir(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('$.conditions.all[0].path');
    expect(problems[0]!.message).toMatch(
      /is not a dotted property path \(a\.b\.c\); JSONPath expressions are not allowed$/,
    );
  });

  it('refuses a path through the prototype chain', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[0].path = 'a.__proto__.polluted';
    });
    expect(validateRulesDir(dir).map((p) => p.message)).toEqual([
      "'a.__proto__.polluted' reaches the prototype chain (__proto__, constructor, prototype)",
    ]);
  });

  it('refuses a fact reference as a comparison value', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].value = { fact: 'birthDate' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.conditions.all[2].value: an object value must be {"param": "<name>"} (fact references and other objects are not allowed)',
    ]);
  });

  it('reports an unknown parameter', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].value = { param: 'elderly.min-agee' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "$.conditions.all[2].value.param: unknown parameter 'elderly.min-agee' (not defined in params/*.json); did you mean 'elderly.min-age'?",
    ]);
  });

  it('reports a bad parameter value once, with what a value may be, and no knock-on unknown parameters', () => {
    const dir = brokenCopy('params/elderly-allowance.json', (j: Json) => {
      j.parameters[0].values[0].value = 1.5;
    });
    expect(validateRulesDir(dir).map((p) => `${p.file}: ${p.path}: ${p.message}`)).toEqual([
      'params/elderly-allowance.json: $.parameters[0].values[0].value: must be a whole number (fen, count, years, percent), a text, or a ratio {numerator, denominator}',
    ]);
  });

  it('reports a params file that is not JSON once, and no unknown parameters it may have defined', () => {
    const dir = brokenCopy('params/municipal.json', () => undefined);
    writeFileSync(join(dir, 'params/municipal.json'), '{"parameters": [');
    const problems = validateRulesDir(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toBe('params/municipal.json');
  });

  it('still reports an unknown parameter when another params file is only invalid', () => {
    const dir = brokenCopy('params/elderly-allowance.json', (j: Json) => {
      j.parameters[0].values[0].value = 1.5;
    });
    const rule = join(dir, 'disability-nursing-subsidy.json');
    const json = JSON.parse(readFileSync(rule, 'utf8'));
    json.conditions.all[0].value = { param: 'municipal.no-such-prefix' };
    writeFileSync(rule, JSON.stringify(json));
    expect(validateRulesDir(dir).map((p) => p.message)).toContain(
      "unknown parameter 'municipal.no-such-prefix' (not defined in params/*.json)",
    );
  });

  it('reports a window that ends before it starts', () => {
    const dir = brokenCopy('small-low-profit-cit.json', (j: Json) => {
      j.effective = { from: '2027', to: '2023' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.effective: window ends (2023) before it starts (2027)',
    ]);
  });

  it('reports a window in the wrong period form', () => {
    const dir = brokenCopy('elderly-allowance.json', (j: Json) => {
      j.effective = { from: '2024' };
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "$.effective.from: '2024' is not a month period (YYYY-MM)",
    ]);
  });

  it('reports a parameter not yet in force when the window opens', () => {
    const dir = brokenCopy('params/childcare-subsidy.json', (j: Json) => {
      j.parameters[0].values[0].from = '2025-02-01';
    });
    expect(validateRulesDir(dir).map((p) => `${p.file}: ${p.path}: ${p.message}`)).toEqual([
      'childcare-subsidy.json: $.amount.perMonth.param: parameter childcare.amount-per-month has no value in force on 2025-01-01, when the effective window opens',
    ]);
  });

  it('reports an enum value that does not exist', () => {
    const dir = brokenCopy('small-low-profit-cit.json', (j) => {
      conds(j)[0].value = 'compnay';
    });
    expect(validateRulesDir(dir).map((p) => p.message)).toEqual([
      '"compnay" is not a possible value of enterpriseType (must be one of company, individual-business)',
    ]);
  });

  it('reports a reason name used twice', () => {
    const dir = brokenCopy('elderly-allowance.json', (j) => {
      conds(j)[2].name = 'not-alive';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "$.conditions.all[2].name: reason name 'not-alive' is used twice in this policy: each names one condition",
    ]);
  });

  it('reports an unknown key', () => {
    const dir = brokenCopy('elderly-allowance.json', (j: Json) => {
      j.script = 'return 1';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.script: unknown key (not part of the file format)',
    ]);
  });

  it('reports eligibility for a policy that does not exist', () => {
    const dir = brokenCopy('six-taxes-two-fees.json', (j: Json) => {
      j.conditions.all[1].any[2].fact = 'eligibleFor:small-low-profit';
    });
    expect(validateRulesDir(dir).map((p) => `${p.path}: ${p.message}`)).toEqual([
      '$.conditions.all[1].any[2].fact: fact eligibleFor:small-low-profit names no policy in this directory',
    ]);
  });

  it('reports a policy that depends on itself', () => {
    const dir = brokenCopy('six-taxes-two-fees.json', (j: Json) => {
      j.conditions.all[1].any[2].fact = 'eligibleFor:six-taxes-two-fees';
    });
    expect(validateRulesDir(dir).map((p) => p.message)).toEqual([
      'policy six-taxes-two-fees depends on itself through eligibleFor:six-taxes-two-fees',
    ]);
  });

  it('reports a file that is not JSON', () => {
    const dir = brokenCopy('elderly-allowance.json', () => {});
    writeFileSync(join(dir, 'elderly-allowance.json'), '{ "id": ');
    const problems = validateRulesDir(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.text).toMatch(new RegExp(`^${dir}/elderly-allowance.json: \\$: not valid JSON: `));
  });

  it('names a directory inside the working directory relatively', () => {
    const problems = validateRulesDir('no-such-rules-dir');
    expect(problems.map((p) => p.text)).toEqual([
      'no-such-rules-dir/: $: rules directory no-such-rules-dir does not exist',
    ]);
  });
});

describe('Function: loadPolicySet', () => {
  it('loads the seven policies with a content hash', () => {
    const set = loadPolicySet(RULES);
    expect(set.policies.map((p) => p.id)).toEqual([
      'childcare-subsidy',
      'disability-living-subsidy',
      'disability-nursing-subsidy',
      'elderly-allowance',
      'job-stabilization-refund',
      'six-taxes-two-fees',
      'small-low-profit-cit',
    ]);
    expect(set.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(loadPolicySet(RULES).contentHash).toBe(set.contentHash);
  });

  it('changes the content hash when a parameter changes', () => {
    const dir = brokenCopy('params/elderly-allowance.json', (j: Json) => {
      j.parameters[1].values.push({ from: '2026-01-01', value: 12000 });
    });
    expect(loadPolicySet(dir).contentHash).not.toBe(loadPolicySet(RULES).contentHash);
  });

  it('does not change the content hash when only formatting changes', () => {
    const dir = brokenCopy('elderly-allowance.json', () => {});
    expect(loadPolicySet(dir).contentHash).toBe(loadPolicySet(RULES).contentHash);
  });

  it('throws one line per problem', () => {
    const dir = brokenCopy('elderly-allowance.json', (j: Json) => {
      delete j.legalReference;
      conds(j)[2].operator = 'gte';
    });
    expect(() => loadPolicySet(dir)).toThrow(
      new RegExp(
        `^${dir}/elderly-allowance.json: \\$.legalReference: is required\\n${dir}/elderly-allowance.json: \\$.conditions.all\\[2\\].operator: unknown operator 'gte'`,
      ),
    );
  });
});

describe('Function: valueInForce', () => {
  const param = {
    name: 'x',
    file: 'params/x.json',
    values: [
      { from: '2024-01-01', value: 10000 },
      { from: '2026-01-01', to: '2026-12-31', value: 12000 },
    ],
  };
  it('takes the value in force on the date', () => {
    expect(valueInForce(param, '2025-12-31')).toEqual({ name: 'x', value: 10000, from: '2024-01-01' });
    expect(valueInForce(param, '2026-01-01')).toEqual({ name: 'x', value: 12000, from: '2026-01-01' });
  });
  it('has no value before the first or after an ended one', () => {
    expect(valueInForce(param, '2023-12-31')).toBeUndefined();
    expect(valueInForce(param, '2027-01-01')).toBeUndefined();
  });
});

describe('Function: datedValueProblems', () => {
  it('accepts values superseding each other', () => {
    expect(
      datedValueProblems([
        { from: '2024-01-01', value: 1 },
        { from: '2025-01-01', value: 2 },
      ]),
    ).toEqual([]);
  });
  it('rejects values out of order', () => {
    expect(
      datedValueProblems([
        { from: '2025-01-01', value: 1 },
        { from: '2024-01-01', value: 2 },
      ]),
    ).toHaveLength(1);
  });
  it('rejects a value ending before it starts', () => {
    expect(datedValueProblems([{ from: '2025-01-01', to: '2024-12-31', value: 1 }])).toEqual([
      { index: 0, message: 'to 2024-12-31 is before from 2025-01-01' },
    ]);
  });
});
