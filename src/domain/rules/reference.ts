/**
 * The reference evaluator: each policy's condition tree runs in its own json-rules-engine Engine,
 * built once per policy set. The engine compares; the three-valued guard around it (evaluation.ts)
 * decides what unknown facts mean, so an unknown fact never grants whatever the operator.
 */
import { type Almanac, Engine, type TopLevelCondition } from 'json-rules-engine';
import { DERIVED_FACTS, ELIGIBLE_FOR_PREFIX, type PeriodInfo, parsePeriod } from '../facts/derived.ts';
import { FACTS } from '../facts/catalogue.ts';
import type { Period } from '../types.ts';
import {
  assembleEvaluation,
  combineTree,
  type EvaluateOptions,
  type Evaluation,
  type EvaluationInput,
  type Evaluator,
  eligibleForTargets,
  FactContext,
  insideWindow,
  isLeaf,
  type LeafResult,
  outsideWindow,
} from './evaluation.ts';
import {
  type ConditionNode,
  type ConditionValue,
  type LeafCondition,
  OPERATORS,
  type Policy,
} from './model.ts';
import type { PolicySet } from './policy-set.ts';
import { FORBIDDEN_SEGMENTS, SAFE_PATH } from './validate.ts';

/** Runtime fact carrying the FactContext to the derived-fact callbacks. Rule files cannot name it. */
const CONTEXT_FACT = '$context';
const PARAM_FACT_PREFIX = 'param:';

/**
 * Resolves a condition `path` as dotted own properties only. json-rules-engine's default resolver
 * is JSONPath (jsonpath-plus), whose script expressions allowed code execution (CVE-2024-21534).
 */
export function strictPathResolver(value: object, path: string): unknown {
  if (!SAFE_PATH.test(path)) throw new Error(`refused condition path '${path}': dotted property names only`);
  const segs = path.split('.');
  if (segs.some((s) => FORBIDDEN_SEGMENTS.has(s)))
    throw new Error(`refused condition path '${path}': prototype segment`);
  let cur: unknown = value;
  for (const seg of segs) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

const DEFAULT_DECORATORS = ['someFact', 'someValue', 'everyFact', 'everyValue', 'swap', 'not'];
const DEFAULT_OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
];

function toEngineValue(v: ConditionValue): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    return { fact: `${PARAM_FACT_PREFIX}${v.param}` };
  return v;
}

/** Translates a validated condition tree into json-rules-engine's form (param references become facts). */
function toEngineCondition(node: ConditionNode): Record<string, unknown> {
  if (isLeaf(node)) {
    const c: Record<string, unknown> = {
      name: node.name,
      fact: node.fact,
      operator: node.operator,
      value: toEngineValue(node.value),
      priority: 1,
    };
    if (node.path !== undefined) c.path = node.path;
    if (node.params !== undefined) c.params = node.params;
    return c;
  }
  if ('not' in node) return { not: toEngineCondition(node.not), name: node.name };
  if ('all' in node)
    return { all: node.all.map(toEngineCondition), ...(node.name ? { name: node.name } : {}) };
  return { any: node.any.map(toEngineCondition), ...(node.name ? { name: node.name } : {}) };
}

/** Builds the one Engine of a policy: allow-listed operators only, strict paths, derived facts. */
export function buildEngine(policy: Policy): Engine {
  const engine = new Engine([], {
    allowUndefinedFacts: true,
    allowUndefinedConditions: false,
    replaceFactsInEventParams: false,
    pathResolver: strictPathResolver,
  });
  // Only the allow-list stays: decorators (`not:`, `everyFact:` …) would widen what a file can express.
  for (const d of DEFAULT_DECORATORS) engine.removeOperatorDecorator(d);
  for (const o of DEFAULT_OPERATORS)
    if (!(OPERATORS as readonly string[]).includes(o)) engine.removeOperator(o);
  engine.addOperator(
    'startsWith',
    (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.startsWith(b),
  );
  const fromContext = (name: string) => async (params: Record<string, unknown>, almanac: Almanac) => {
    const ctx = await almanac.factValue<FactContext>(CONTEXT_FACT);
    const r = ctx.reading(name, params as Record<string, never>);
    return r.known ? r.value : undefined;
  };
  for (const d of DERIVED_FACTS)
    if (d.subjectKind === policy.subjectKind) engine.addFact(d.name, fromContext(d.name));
  for (const target of eligibleForTargets(policy.conditions)) {
    const name = `${ELIGIBLE_FOR_PREFIX}${target}`;
    engine.addFact(name, fromContext(name));
  }
  engine.addRule({
    name: policy.id,
    conditions: toEngineCondition(policy.conditions) as unknown as TopLevelCondition,
    event: { type: 'eligible' },
  });
  return engine;
}

/** The engine's annotated copy of a condition (json-rules-engine sets `result`, `factResult`, `valueResult`). */
interface ResultNode {
  result?: boolean;
  factResult?: unknown;
  valueResult?: unknown;
  all?: ResultNode[];
  any?: ResultNode[];
  not?: ResultNode;
}

/** Pairs each original leaf with the engine's annotated leaf, walking both trees in file order. */
function leafResultsInOrder(node: ConditionNode, res: ResultNode, out: ResultNode[]): void {
  if (isLeaf(node)) out.push(res);
  else if ('not' in node) leafResultsInOrder(node.not, res.not!, out);
  else if ('all' in node)
    node.all.forEach((c, i) => {
      leafResultsInOrder(c, res.all![i]!, out);
    });
  else
    node.any.forEach((c, i) => {
      leafResultsInOrder(c, res.any![i]!, out);
    });
}

/** Creates the reference evaluator over a loaded policy set. Engines are built here, once. */
export function createReferenceEvaluator(set: PolicySet): Evaluator {
  const engines = new Map(set.policies.map((p) => [p.id, buildEngine(p)]));
  const byId = new Map(set.policies.map((p) => [p.id, p]));

  async function evaluatePolicy(
    policy: Policy,
    input: EvaluationInput,
    period: PeriodInfo,
    memo: Map<string, Promise<Evaluation>>,
  ): Promise<Evaluation> {
    const cached = memo.get(policy.id);
    if (cached) return cached;
    const run = (async () => {
      if (!insideWindow(policy, period.text)) return outsideWindow(policy, input, period);
      const ctx = new FactContext(input.facts, period, set.params);
      for (const target of eligibleForTargets(policy.conditions)) {
        const dep = byId.get(target);
        if (dep) ctx.eligibleFor.set(target, await evaluatePolicy(dep, input, period, memo));
      }
      const runtime: Record<string, unknown> = { [CONTEXT_FACT]: ctx };
      for (const f of FACTS) {
        if (f.subjectKind !== policy.subjectKind) continue;
        const r = ctx.base(f.name);
        runtime[f.name] = r.known ? r.value : undefined;
      }
      for (const name of set.params.keys()) runtime[`${PARAM_FACT_PREFIX}${name}`] = ctx.param(name)?.value;
      ctx.paramsRead.clear(); // only what the conditions and amount actually read belongs in the explanation
      const { results, failureResults } = await engines.get(policy.id)!.run(runtime);
      const ruleResult = results[0] ?? failureResults[0];
      if (!ruleResult) throw new Error(`policy ${policy.id}: the engine returned no result`);
      const engineLeaves: ResultNode[] = [];
      leafResultsInOrder(policy.conditions, ruleResult.conditions as unknown as ResultNode, engineLeaves);
      let i = 0;
      const tree = combineTree(policy.conditions, '$.conditions', (leaf: LeafCondition): LeafResult => {
        const engineLeaf = engineLeaves[i++]!;
        const reading = ctx.reading(leaf.fact, leaf.params);
        const threshold = ctx.resolve(leaf.value);
        const missing = [...reading.missing, ...(threshold.missing ? [threshold.missing] : [])];
        const thr = threshold.param
          ? { value: threshold.value, param: threshold.param }
          : { value: threshold.value };
        if (missing.length || !reading.known) {
          return { value: 'unknown', missing, keys: reading.keys, factValue: undefined, threshold: thr };
        }
        if (typeof engineLeaf.result !== 'boolean') {
          throw new Error(`policy ${policy.id}: condition ${leaf.name} was not evaluated by the engine`);
        }
        return {
          value: engineLeaf.result,
          missing: [],
          keys: reading.keys,
          factValue: engineLeaf.factResult,
          threshold: thr,
        };
      });
      // The three-valued tree is the decision; the engine must agree whenever it says true.
      if (tree.value === true && ruleResult.result !== true) {
        throw new Error(`policy ${policy.id}: engine and guard disagree for ${input.subject}`);
      }
      return assembleEvaluation(policy, input, ctx, tree);
    })();
    memo.set(policy.id, run);
    return run;
  }

  return {
    name: 'reference',
    async evaluate(input: EvaluationInput, period: Period, opts?: EvaluateOptions): Promise<Evaluation[]> {
      const p = parsePeriod(period);
      if (!p) throw new Error(`invalid period '${period}': use YYYY or YYYY-MM`);
      const memo = new Map<string, Promise<Evaluation>>();
      const out: Evaluation[] = [];
      for (const policy of selectPolicies(set, input.kind, p, opts))
        out.push(await evaluatePolicy(policy, input, p, memo));
      return out;
    },
  };
}

/** The policies an evaluation covers: the subject's kind, the period's unit, optionally one id. */
export function selectPolicies(
  set: PolicySet,
  kind: string,
  period: PeriodInfo,
  opts?: EvaluateOptions,
): Policy[] {
  return set.policies.filter(
    (p) =>
      p.subjectKind === kind &&
      p.periodUnit === period.unit &&
      (opts?.policy === undefined || p.id === opts.policy),
  );
}
