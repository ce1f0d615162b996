/**
 * Runs the test cases that sit beside the rule files (`rules/<policy>.test.json`), so policy staff
 * can add a case as data and see it checked by `pb rules test`.
 */
import type { Outcome } from '../types.ts';
import type { Evaluator } from './evaluation.ts';
import type { RuleTestCase } from './model.ts';
import type { PolicySet } from './policy-set.ts';
import { createReferenceEvaluator } from './reference.ts';
import { dirLabel, oneLine, type Problem, readRulesDir } from './validate.ts';
import { withArticle } from '../words.ts';

/** One failed case with a readable difference. */
export interface RuleTestFailure {
  /** The test file as problem lines name it: `<dir>/<policy>.test.json` (e.g. `rules/x.test.json`). */
  file: string;
  index: number;
  name: string;
  expected: RuleTestCase['expected'];
  actual: { outcome: Outcome | null; amount: number | null; reasons: string[] };
  /** `field: expected X, got Y` parts; an outcome difference shows the actual reasons. */
  diff: string[];
  /** The line `pb rules test` prints: `FAIL <dir>/<file> [<index>] <name>: <diff; …>`. */
  text: string;
}

/** The result of running every test file of a rules directory. */
export interface RuleTestReport {
  passed: number;
  failed: number;
  failures: RuleTestFailure[];
  /** Problems that stopped the directory from loading (then nothing ran). */
  problems: Problem[];
  /** Findings that do not stop the run (a policy without test cases). */
  warnings: Problem[];
  /** Test files run. */
  files: number;
}

/** Runs every `*.test.json` of a rules directory against an evaluator (the reference one by default). */
export async function runRuleTests(
  dir: string,
  makeEvaluator: (set: PolicySet) => Evaluator = createReferenceEvaluator,
): Promise<RuleTestReport> {
  const content = readRulesDir(dir);
  const label = dirLabel(dir);
  const report: RuleTestReport = {
    passed: 0,
    failed: 0,
    failures: [],
    problems: content.problems,
    warnings: content.warnings,
    files: 0,
  };
  if (content.problems.length) return report;
  const evaluator = makeEvaluator({
    policies: content.policies,
    params: content.params,
    contentHash: content.contentHash,
  });
  for (const [policy, { file: name, cases }] of [...content.tests].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = `${label}/${name}`;
    report.files += 1;
    for (const [index, c] of cases.entries()) {
      const [e] = await evaluator.evaluate(
        { subject: c.subject ?? `test-${index}`, kind: c.kind, facts: c.facts },
        c.period,
        { policy },
      );
      const actual = e
        ? { outcome: e.outcome, amount: e.amount, reasons: e.reasons }
        : { outcome: null, amount: null, reasons: [] };
      const diff: string[] = [];
      if (!e)
        diff.push(`no evaluation: policy ${policy} does not apply to ${withArticle(c.kind)} for ${c.period}`);
      else {
        const reasonsDiffer =
          c.expected.reasons !== undefined &&
          JSON.stringify(c.expected.reasons) !== JSON.stringify(actual.reasons);
        if (actual.outcome !== c.expected.outcome) {
          // Why it came out otherwise, unless the reasons difference below says it already.
          const why = reasonsDiffer
            ? ''
            : ` (reasons: ${actual.reasons.length ? actual.reasons.join(', ') : 'none'})`;
          diff.push(`outcome: expected ${c.expected.outcome}, got ${actual.outcome}${why}`);
        }
        if (actual.amount !== c.expected.amount)
          diff.push(`amount: expected ${c.expected.amount}, got ${actual.amount}`);
        if (reasonsDiffer) {
          diff.push(
            `reasons: expected ${JSON.stringify(c.expected.reasons)}, got ${JSON.stringify(actual.reasons)}`,
          );
        }
      }
      if (diff.length) {
        report.failed += 1;
        report.failures.push({
          file,
          index,
          name: c.name,
          expected: c.expected,
          actual,
          diff,
          text: `FAIL ${file} [${index}] ${oneLine(c.name, 200)}: ${oneLine(diff.join('; '), 2000)}`,
        });
      } else report.passed += 1;
    }
  }
  return report;
}
