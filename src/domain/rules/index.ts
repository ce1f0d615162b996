/**
 * Policies as code: the public API other parts of the engine integrate against.
 *
 * - `loadPolicySet(dir)` reads and validates `rules/` (throws one line per problem);
 * - `validateRulesDir(dir)` lists the problems without throwing;
 * - `createReferenceEvaluator(set)` evaluates subjects for a period (json-rules-engine);
 * - `triggerPeriods` / `periodsOpenedAt` say which periods to decide.
 */
export { loadPolicySet, type PolicySet } from './policy-set.ts';
export { validateRulesDir, readRulesDir, type Problem, type RulesDirContent } from './validate.ts';
export { createReferenceEvaluator, selectPolicies } from './reference.ts';
export type {
  Evaluation,
  EvaluationInput,
  EvaluateOptions,
  Evaluator,
  Explanation,
  ExplainedCondition,
  NotificationPlan,
} from './evaluation.ts';
export { triggerPeriods, periodsOpenedAt, yearsWithFacts, type PolicyPeriod } from './periods.ts';
export { runRuleTests, type RuleTestReport, type RuleTestFailure } from './testcases.ts';
export type {
  Policy,
  Parameter,
  DatedValue,
  ParamValue,
  AmountSpec,
  ConditionNode,
  LeafCondition,
  LegalReference,
  NotificationSpec,
  EffectiveWindow,
  RuleTestCase,
} from './model.ts';
export { valueInForce, type ParamInForce } from './params.ts';
export { parsePeriod, type PeriodInfo } from '../facts/derived.ts';
