/**
 * Differential test: the compiled evaluator against the json-rules-engine reference, on every rule
 * test case and on 10,000 generated fact sets per policy (arbitraries.ts). Both paths of the
 * compiled evaluator are held to the reference: the whole Evaluation (explanation, factsUsed,
 * notification) of `evaluateFullSync`, and the `pb evaluate` fields of `evaluateSync`.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCompiledEvaluator } from '../../../src/domain/rules/compiled/index.ts';
import {
  createReferenceEvaluator,
  type Evaluation,
  type EvaluationInput,
  loadPolicySet,
  readRulesDir,
} from '../../../src/domain/rules/index.ts';
import type { EvaluationResult } from '../../../src/domain/types.ts';
import { enterpriseCase, type FactCase, monthPeriod, personCase, yearPeriod } from './arbitraries.ts';

const RULES = 'rules';
const RUNS = Number(process.env.PB_DIFF_RUNS ?? 10_000);

const set = loadPolicySet(RULES);
const reference = createReferenceEvaluator(set);
const compiled = createCompiledEvaluator(set);

const lean = (e: Evaluation): EvaluationResult => ({
  subject: e.subject,
  policy: e.policy,
  period: e.period,
  outcome: e.outcome,
  amount: e.amount,
  reasons: e.reasons,
});

/** Evaluates one input with both evaluators; fails with the first difference, shown in full. */
async function compare(input: EvaluationInput, period: string, policy?: string): Promise<Evaluation[]> {
  const opts = policy === undefined ? undefined : { policy };
  const want = await reference.evaluate(input, period, opts);
  const full = compiled.evaluateFullSync(input, period, opts);
  const fast = compiled.evaluateSync(input, period, opts);
  if (!isDeepStrictEqual(full, want))
    expect({ input, period, got: full }).toStrictEqual({ input, period, got: want });
  const wantLean = want.map(lean);
  if (!isDeepStrictEqual(fast, wantLean))
    expect({ input, period, got: fast }).toStrictEqual({ input, period, got: wantLean });
  return want;
}

describe('Function: createCompiledEvaluator (differential against the reference)', () => {
  it('agrees on every rule test case, for the case policy and for all policies of the period', async () => {
    const content = readRulesDir(RULES);
    let n = 0;
    for (const [policy, { cases }] of content.tests) {
      for (const [i, c] of cases.entries()) {
        const input = { subject: c.subject ?? `case-${i}`, kind: c.kind, facts: c.facts };
        const [e] = await compare(input, c.period, policy);
        // The test case itself holds, so the comparison is not between two equally wrong answers.
        expect({ name: c.name, outcome: e?.outcome, amount: e?.amount }).toEqual({
          name: c.name,
          outcome: c.expected.outcome,
          amount: c.expected.amount,
        });
        await compare(input, c.period);
        n += 1;
      }
    }
    expect(n).toBeGreaterThanOrEqual(100);
  });

  for (const policy of set.policies) {
    const period = policy.periodUnit === 'month' ? monthPeriod : yearPeriod;
    const arb: fc.Arbitrary<FactCase> =
      policy.subjectKind === 'person' ? personCase(period) : enterpriseCase(period);
    it(`agrees on ${RUNS} generated fact sets for ${policy.id}`, { timeout: 600_000 }, async () => {
      const seen = { eligible: 0, notEligible: 0, missing: 0, outside: 0 };
      await fc.assert(
        fc.asyncProperty(arb, async (c) => {
          const [e] = await compare(
            { subject: 's-1', kind: policy.subjectKind, facts: c.facts },
            c.period,
            policy.id,
          );
          if (e?.outcome === 'eligible') seen.eligible += 1;
          else seen.notEligible += 1;
          if (e?.reasons.some((r) => r.startsWith('missing-'))) seen.missing += 1;
          if (e?.reasons.includes('outside-effective-period')) seen.outside += 1;
        }),
        { numRuns: RUNS },
      );
      // The generators reach every kind of outcome, or agreeing would prove little.
      expect(seen.eligible).toBeGreaterThan(RUNS / 100);
      expect(seen.notEligible).toBeGreaterThan(RUNS / 50);
      expect(seen.missing).toBeGreaterThan(RUNS / 100);
      expect(seen.outside).toBeGreaterThan(RUNS / 100);
    });
  }
});
