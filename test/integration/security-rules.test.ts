import { describe, expect, it } from 'vitest';
import { distinctFindings, runRulesFuzz, rulesUnderTest } from '../../src/testing/rules-fuzz.ts';

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
