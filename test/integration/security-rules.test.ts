import { describe, expect, it } from 'vitest';
import { createCompiledEvaluator } from '../../src/domain/rules/compiled/index.ts';
import {
  createReferenceEvaluator,
  loadPolicySet,
  type PolicySet,
  validateRulesDir,
} from '../../src/domain/rules/index.ts';
import { dirLabel } from '../../src/domain/rules/validate.ts';
import type { FactValues } from '../../src/domain/types.ts';
import { distinctFindings, type RulesUnderTest, runRulesFuzz } from '../../src/testing/rules-fuzz.ts';

/** The rules module as the fuzzer drives it: both evaluators the engine and `pb evaluate` use. */
export const rulesUnderTest: RulesUnderTest = {
  validateRulesDir,
  loadPolicySet,
  dirLabel,
  evaluators: (set) =>
    [createReferenceEvaluator(set as PolicySet), createCompiledEvaluator(set as PolicySet)].map((ev) => ({
      name: ev.name,
      evaluate: (kind, facts, period, policy) =>
        ev.evaluate({ subject: 'fuzz', kind, facts: facts as FactValues }, period, { policy }),
    })),
};

describe('Rule-file fuzzing: validateRulesDir, loadPolicySet and the evaluators', () => {
  it('never crash, report one line per problem, and never grant when a condition reads a missing fact', async () => {
    // Act: random leaves (hostile facts, operators, JSONPath and prototype paths, values of any
    // shape) placed into every policy, then damaged rule and parameter files.
    const report = await runRulesFuzz(rulesUnderTest, {
      cases: Number(process.env.FUZZ ?? 300),
      damaged: 60,
      seed: 9,
    });
    // Assess: both sides were reached (refused files, and files that load and evaluate) ...
    expect(report.refused).toBeGreaterThan(100);
    expect(report.loaded).toBeGreaterThan(20);
    expect(report.missingChecked).toBeGreaterThan(20);
    // ... and no promise broke (one example per kind and file, so a failure shows them all).
    expect(distinctFindings(report.findings)).toEqual([]);
  });
});
