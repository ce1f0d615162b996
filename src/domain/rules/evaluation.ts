/**
 * What every evaluator shares: the `Evaluator` port, the `Evaluation` it returns, and the semantics
 * that must not differ between implementations (reading facts for a period, unknown facts, reason
 * order, amounts, masked explanations). The reference evaluator (json-rules-engine) and a compiled
 * one plug in behind `Evaluator` and reuse these helpers so both give identical output.
 */
import { type FactReading, factDefinition, readFact, type Sensitivity } from '../facts/catalogue.ts';
import {
  derivedFact,
  ELIGIBLE_FOR_PREFIX,
  isRatio,
  type PeriodInfo,
  percentHalfUp,
  type Ratio,
} from '../facts/derived.ts';
import type { EvaluationResult, FactValues, Fen, Outcome, Period, SubjectKind } from '../types.ts';
import {
  type AmountSpec,
  type ConditionNode,
  type ConditionValue,
  type LeafCondition,
  type NumberOrParam,
  OPERATOR_SYMBOL,
  type Operator,
  type Parameter,
  type ParamValue,
  type Policy,
} from './model.ts';
import { type ParamInForce, showParamValue, valueInForce } from './params.ts';

/** One subject to evaluate: exactly a line of `pb evaluate` input. */
export interface EvaluationInput {
  subject: string;
  kind: SubjectKind;
  facts: FactValues;
}

/** Options of one evaluation call. */
export interface EvaluateOptions {
  /** Only this policy (by id). */
  policy?: string;
}

/** Who is told about a grant. */
export interface NotificationPlan {
  templateIds: string[];
  /** Subject ids to notify: the subject itself, or its guardians. */
  recipients: string[];
  /** Set when nobody can be notified (a child without guardians), so the decision says so. */
  note?: string;
}

/** One condition as a reviewer sees it. `shown` only for public/internal facts. */
export interface ExplainedCondition {
  /** The reason reported when this condition fails. */
  name: string;
  /** Where the condition sits in the rule file (JSON path). */
  at: string;
  fact: string;
  path?: string;
  operator: Operator;
  /** The value compared against; `param` when it came from a dated parameter. */
  threshold: { value: unknown; param?: ParamInForce };
  result: boolean | 'unknown';
  /** `missing-fact:…`/`missing-parameter:…` when the result is unknown. */
  missing?: string[];
  sensitivity: Sensitivity;
  /** The fact's value, only when its sensitivity is public or internal. */
  shown?: unknown;
  /** One line, e.g. `taxableIncome <= 300000000: true` (restricted: value never printed). */
  text: string;
}

/** The trace of one decision: conditions, parameters with their dates, amount, rule version. */
export interface Explanation {
  policy: string;
  ruleVersion: string;
  /** sha256 of the canonical rule file. */
  ruleHash: string;
  period: Period;
  periodStart: string;
  outcome: Outcome;
  reasons: string[];
  effective: { from: Period; to?: Period; inside: boolean };
  conditions: ExplainedCondition[];
  amount: { text: string; value: Fen | null } | null;
  /** Every parameter read, with the value in force and the date it is in force from. */
  parameters: ParamInForce[];
  /** Decisions on other policies this one rests on (`eligibleFor:<policy>`). */
  dependsOn: Explanation[];
  /** The explanation as readable lines. */
  lines: string[];
}

/** One decision of one policy for one subject and period. */
export interface Evaluation extends EvaluationResult {
  ruleVersion: string;
  explanation: Explanation;
  /** Fact keys the decision rests on (`birthDate`, `taxableIncome#2025`), in rule order. */
  factsUsed: string[];
  /** Who to notify when eligible; null when not eligible. */
  notification: NotificationPlan | null;
}

/** The evaluator port. The reference evaluator and the compiled one implement it identically. */
export interface Evaluator {
  /** `reference` or `compiled`. */
  readonly name: string;
  /**
   * One Evaluation per policy of the subject's kind whose period unit matches the period form
   * (`2025` → year policies, `2025-03` → month policies), in policy-id order.
   */
  evaluate(input: EvaluationInput, period: Period, opts?: EvaluateOptions): Promise<Evaluation[]>;
}

// ---------------------------------------------------------------------------------------------
// Reading facts and parameters for one period

/** A fact or derived fact read for the period: value when known, and the fact keys it rests on. */
export interface Reading {
  known: boolean;
  value: unknown;
  /** Keys of the present base facts read. */
  keys: string[];
  /** `missing-fact:<name>` for each required base fact that is unknown. */
  missing: string[];
}

/**
 * The facts and parameters of one subject for one period and policy, memoised and recording what
 * was read (for `factsUsed` and the explanation's parameters).
 */
export class FactContext {
  private readonly memo = new Map<string, FactReading>();
  /** Parameters read, by name. */
  readonly paramsRead = new Map<string, ParamInForce>();
  /** Decisions of `eligibleFor:<policy>` facts, filled by the evaluator before conditions run. */
  readonly eligibleFor = new Map<string, Evaluation>();

  constructor(
    readonly facts: FactValues,
    readonly period: PeriodInfo,
    readonly params: ReadonlyMap<string, Parameter>,
  ) {}

  /** A base fact for the period's year. */
  base(name: string): FactReading {
    let r = this.memo.get(name);
    if (!r) {
      r = readFact(this.facts, name, this.period.year);
      this.memo.set(name, r);
    }
    return r;
  }

  /** A parameter's value in force on the first day of the period. */
  param(name: string): ParamInForce | undefined {
    const p = this.params.get(name);
    const v = p ? valueInForce(p, this.period.start) : undefined;
    if (v) this.paramsRead.set(name, v);
    return v;
  }

  /** Resolves a literal or `{param}`; `missing` names the parameter when none is in force. */
  resolve(v: ConditionValue | NumberOrParam): { value: unknown; param?: ParamInForce; missing?: string } {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const p = this.param(v.param);
      return p ? { value: p.value, param: p } : { value: undefined, missing: `missing-parameter:${v.param}` };
    }
    return { value: v };
  }

  /** Reads any fact a rule may name: base, derived (with condition params) or `eligibleFor:<policy>`. */
  reading(name: string, rawParams?: Record<string, NumberOrParam>): Reading {
    if (name.startsWith(ELIGIBLE_FOR_PREFIX)) {
      const e = this.eligibleFor.get(name.slice(ELIGIBLE_FOR_PREFIX.length));
      if (!e) return { known: false, value: undefined, keys: [], missing: [`missing-fact:${name}`] };
      // Three-valued like everything else: not eligible only for unknown facts means "unknown",
      // so the reasons name the missing facts rather than a failure that was never established.
      const onlyMissing =
        e.outcome !== 'eligible' && e.reasons.every((r) => /^missing-(fact|parameter):/.test(r));
      if (onlyMissing) return { known: false, value: undefined, keys: e.factsUsed, missing: e.reasons };
      return { known: true, value: e.outcome === 'eligible', keys: e.factsUsed, missing: [] };
    }
    const d = derivedFact(name);
    if (!d) {
      const r = this.base(name);
      const absentOk = factDefinition(name)?.absentMeans !== undefined && !r.invalid;
      return {
        known: r.known || absentOk,
        value: r.value,
        keys: r.known ? [r.key] : [],
        missing: r.known || absentOk ? [] : [`missing-fact:${name}`],
      };
    }
    const keys: string[] = [];
    const missing: string[] = [];
    for (const input of d.inputs) {
      const r = this.base(input);
      if (r.known) keys.push(r.key);
      else if (r.invalid || factDefinition(input)?.absentMeans === undefined)
        missing.push(`missing-fact:${input}`);
    }
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rawParams ?? {})) {
      const r = this.resolve(v);
      if (r.missing) missing.push(r.missing);
      params[k] = r.value;
    }
    if (missing.length) return { known: false, value: undefined, keys, missing };
    return {
      known: true,
      value: d.compute({ read: (f) => this.base(f), period: this.period, params }),
      keys,
      missing,
    };
  }
}

/** Sensitivity of any fact a rule may name. `eligibleFor:` rests on restricted tax data. */
export function sensitivityOf(fact: string): Sensitivity {
  return factDefinition(fact)?.sensitivity ?? derivedFact(fact)?.sensitivity ?? 'restricted';
}

const visible = (s: Sensitivity): boolean => s === 'public' || s === 'internal';

// ---------------------------------------------------------------------------------------------
// The three-valued condition tree (Kleene logic): unknown facts make a leaf unknown, and only
// `true` grants, so an unknown fact can never grant, whatever the operator (notEqual on undefined
// is true in json-rules-engine; here it is unknown).

/** true, false, or unknown. */
export type Tri = boolean | 'unknown';

/** A leaf's result as an evaluator computed it. */
export interface LeafResult {
  value: Tri;
  /** Missing facts/parameters when unknown. */
  missing: string[];
  /** Keys of the facts it read. */
  keys: string[];
  factValue: unknown;
  threshold: { value: unknown; param?: ParamInForce };
}

/** A node of the evaluated tree. */
export interface NodeResult {
  node: ConditionNode;
  at: string;
  value: Tri;
  children: NodeResult[];
  leaf?: LeafResult;
}

/** True when a node is a comparison (not all/any/not). */
export function isLeaf(n: ConditionNode): n is LeafCondition {
  return !('all' in n) && !('any' in n) && !('not' in n);
}

/** The comparisons of a condition tree, in file order. */
export function leafConditions(node: ConditionNode, out: LeafCondition[] = []): LeafCondition[] {
  if (isLeaf(node)) out.push(node);
  else if ('not' in node) leafConditions(node.not, out);
  else for (const c of 'all' in node ? node.all : node.any) leafConditions(c, out);
  return out;
}

/**
 * Evaluates a condition tree in three-valued logic from the leaf results an evaluator supplies
 * (`leafResult` is called for every leaf, in file order).
 */
export function combineTree(
  node: ConditionNode,
  at: string,
  leafResult: (leaf: LeafCondition, at: string) => LeafResult,
): NodeResult {
  if (isLeaf(node)) {
    const leaf = leafResult(node, at);
    return { node, at, value: leaf.value, children: [], leaf };
  }
  if ('not' in node) {
    const child = combineTree(node.not, `${at}.not`, leafResult);
    return { node, at, value: child.value === 'unknown' ? 'unknown' : !child.value, children: [child] };
  }
  const key = 'all' in node ? 'all' : 'any';
  const kids = ('all' in node ? node.all : node.any).map((c, i) =>
    combineTree(c, `${at}.${key}[${i}]`, leafResult),
  );
  const vals = kids.map((k) => k.value);
  let value: Tri;
  if (key === 'all') value = vals.includes(false) ? false : vals.includes('unknown') ? 'unknown' : true;
  else value = vals.includes(true) ? true : vals.includes('unknown') ? 'unknown' : false;
  return { node, at, value, children: kids };
}

/**
 * Reasons of a tree that is not true, in file order, without repeats: a false leaf gives its name,
 * an unknown leaf its `missing-fact:`/`missing-parameter:` reasons. A named `any`/`not` that is
 * false gives its own name; when unknown, the reasons of its unknown parts.
 */
export function reasonsOf(r: NodeResult): string[] {
  const out: string[] = [];
  const walk = (n: NodeResult): void => {
    if (n.value === true) return;
    if (n.leaf) {
      if (n.value === 'unknown') out.push(...n.leaf.missing);
      else out.push((n.node as LeafCondition).name);
      return;
    }
    const name = (n.node as { name?: string }).name;
    if ('not' in n.node) {
      if (n.value === false) out.push(name!);
      else walk(n.children[0]!);
      return;
    }
    if ('any' in n.node && name !== undefined) {
      if (n.value === false) out.push(name);
      else n.children.filter((c) => c.value === 'unknown').forEach(walk);
      return;
    }
    n.children.forEach(walk);
  };
  walk(r);
  return [...new Set(out)];
}

/**
 * The fact keys a decision rests on, in file order: for a true tree, a minimal justification (every
 * part of an `all`, the first true part of an `any`); for a tree that is not true, the parts that
 * are not true.
 */
export function factsUsedOf(r: NodeResult): string[] {
  const out: string[] = [];
  const walk = (n: NodeResult): void => {
    if (n.leaf) {
      out.push(...n.leaf.keys);
      return;
    }
    if ('not' in n.node) walk(n.children[0]!);
    else if ('all' in n.node) n.children.filter((c) => n.value === true || c.value !== true).forEach(walk);
    else if (n.value === true) walk(n.children.find((c) => c.value === true)!);
    else n.children.forEach(walk);
  };
  walk(r);
  return [...new Set(out)];
}

/** Every leaf of an evaluated tree in file order. */
export function leavesOf(r: NodeResult): NodeResult[] {
  return r.leaf ? [r] : r.children.flatMap(leavesOf);
}

// ---------------------------------------------------------------------------------------------
// Amounts

/** An amount computed, or why it could not be. */
export type AmountResult =
  | { ok: true; value: Fen; keys: string[]; text: string }
  | { ok: false; reasons: string[]; keys: string[]; text: string };

const num = (v: unknown): number => v as number;

/**
 * Computes a declarative amount in integer fen. Facts it reads must be known (`missing-fact:` when
 * not); percentages are rounded half-up exactly (BigInt).
 */
export function computeAmount(spec: AmountSpec, ctx: FactContext): AmountResult {
  const failed = (reasons: string[], keys: string[], text: string): AmountResult => ({
    ok: false,
    reasons,
    keys,
    text,
  });
  const show = (r: { value: unknown; param?: ParamInForce }): string =>
    r.param ? `${showParamValue(r.param.value)} [${r.param.name} from ${r.param.from}]` : String(r.value);
  switch (spec.kind) {
    case 'fixed': {
      const v = ctx.resolve(spec.value);
      if (v.missing) return failed([v.missing], [], `fixed: ${v.missing}`);
      return { ok: true, value: num(v.value), keys: [], text: `fixed ${show(v)} = ${num(v.value)}` };
    }
    case 'perCountedMonth': {
      const months = ctx.reading('countedMonths');
      const per = ctx.resolve(spec.perMonth);
      const reasons = [...months.missing, ...(per.missing ? [per.missing] : [])];
      if (reasons.length) return failed(reasons, months.keys, `countedMonths × ${show(per)}: unknown`);
      const value = num(months.value) * num(per.value);
      return { ok: true, value, keys: months.keys, text: `countedMonths × ${show(per)} = ${value}` };
    }
    case 'percentOf': {
      const base = ctx.reading(spec.fact);
      const n = ctx.resolve(spec.numerator);
      const d = ctx.resolve(spec.denominator);
      const reasons = [...base.missing, ...[n.missing, d.missing].filter((x): x is string => !!x)];
      const formula = `${spec.fact} × ${show(n)} / ${show(d)}, rounded half-up to a fen`;
      if (reasons.length || !base.known) return failed(reasons, base.keys, `${formula}: unknown`);
      const value = percentHalfUp(num(base.value), num(n.value), num(d.value));
      const shown = visible(sensitivityOf(spec.fact)) ? ` (${spec.fact} = ${String(base.value)})` : '';
      return { ok: true, value, keys: base.keys, text: `${formula} = ${value}${shown}` };
    }
    case 'tiered': {
      const f = ctx.reading(spec.fact);
      if (!f.known) return failed(f.missing, f.keys, `tier by ${spec.fact}: unknown`);
      for (const [i, t] of spec.tiers.entries()) {
        const min = t.min === undefined ? undefined : ctx.resolve(t.min);
        const max = t.max === undefined ? undefined : ctx.resolve(t.max);
        const missing = [min?.missing, max?.missing].filter((x): x is string => !!x);
        if (missing.length) return failed(missing, f.keys, `tier by ${spec.fact}: unknown`);
        const v = f.value;
        const fits =
          (min === undefined || (typeof v === 'number' && v >= num(min.value))) &&
          (max === undefined || (typeof v === 'number' && v <= num(max.value))) &&
          (t.in === undefined || t.in.includes(v as string | number));
        if (!fits) continue;
        const inner = computeAmount(t.amount, ctx);
        const bounds = [
          min ? `min ${show(min)}` : '',
          max ? `max ${show(max)}` : '',
          t.in ? `in ${JSON.stringify(t.in)}` : '',
        ]
          .filter(Boolean)
          .join(', ');
        const text = `${spec.fact} in tier ${i + 1} (${bounds}): ${inner.text}`;
        const keys = [...f.keys, ...inner.keys];
        return inner.ok ? { ...inner, keys, text } : { ...inner, keys, text };
      }
      return failed(['no-amount-tier'], f.keys, `no tier of ${spec.fact} matches`);
    }
  }
}

/**
 * `missing-fact:` reasons of the facts an amount reads, without computing it (used when the
 * conditions already failed): the fact of `percentOf`/`tiered`, the birth date behind `countedMonths`.
 */
export function amountMissing(spec: AmountSpec, ctx: FactContext): string[] {
  switch (spec.kind) {
    case 'fixed':
      return [];
    case 'perCountedMonth':
      return ctx.reading('countedMonths').missing;
    case 'percentOf':
    case 'tiered':
      return ctx.reading(spec.fact).missing;
  }
}

// ---------------------------------------------------------------------------------------------
// Assembling an Evaluation

/** True when a period lies inside a policy's window (periods of one form compare as strings). */
export function insideWindow(policy: Policy, period: Period): boolean {
  return (
    period >= policy.effective.from && (policy.effective.to === undefined || period <= policy.effective.to)
  );
}

const fmt = (v: unknown): string =>
  typeof v === 'object' && v !== null && isRatio(v)
    ? `${(v as Ratio).numerator}/${(v as Ratio).denominator}`
    : JSON.stringify(v);

/** The explanation line and masked record of one evaluated leaf. */
export function explainLeaf(r: NodeResult): ExplainedCondition {
  const leaf = r.node as LeafCondition;
  const lr = r.leaf!;
  const sensitivity = sensitivityOf(leaf.fact);
  const factLabel = `${leaf.fact}${leaf.path ? `.${leaf.path}` : ''}`;
  const threshold = lr.threshold.param ? fmt(lr.threshold.param.value) : fmt(lr.threshold.value);
  const shownPart = visible(sensitivity) && lr.value !== 'unknown' ? ` (${fmt(lr.factValue)})` : '';
  const result = lr.value === 'unknown' ? `unknown (${lr.missing.join(', ')})` : String(lr.value);
  const out: ExplainedCondition = {
    name: leaf.name,
    at: r.at,
    fact: leaf.fact,
    operator: leaf.operator,
    threshold: lr.threshold.param
      ? { value: lr.threshold.param.value, param: lr.threshold.param }
      : { value: lr.threshold.value },
    result: lr.value,
    sensitivity,
    text: `${factLabel}${shownPart} ${OPERATOR_SYMBOL[leaf.operator]} ${threshold}: ${result}`,
  };
  if (leaf.path) out.path = leaf.path;
  if (lr.value === 'unknown') out.missing = lr.missing;
  if (visible(sensitivity) && lr.value !== 'unknown') out.shown = lr.factValue;
  return out;
}

/** Builds the Evaluation for a period outside the policy's window: only `outside-effective-period`. */
export function outsideWindow(policy: Policy, input: EvaluationInput, period: PeriodInfo): Evaluation {
  const reasons = ['outside-effective-period'];
  const to = policy.effective.to === undefined ? 'open-ended' : policy.effective.to;
  return {
    subject: input.subject,
    policy: policy.id,
    period: period.text,
    outcome: 'not-eligible',
    amount: null,
    reasons,
    ruleVersion: policy.version,
    factsUsed: [],
    notification: null,
    explanation: {
      policy: policy.id,
      ruleVersion: policy.version,
      ruleHash: policy.contentHash,
      period: period.text,
      periodStart: period.start,
      outcome: 'not-eligible',
      reasons,
      effective: { ...policy.effective, inside: false },
      conditions: [],
      amount: null,
      parameters: [],
      dependsOn: [],
      lines: [
        `${policy.id} v${policy.version} for ${period.text}: not-eligible`,
        `period ${period.text} is outside the effective window ${policy.effective.from}..${to}`,
      ],
    },
  };
}

/**
 * Builds the Evaluation from an evaluated condition tree: outcome eligible only when the tree is
 * true and the amount could be computed; reasons in file order, then the amount's reasons.
 */
export function assembleEvaluation(
  policy: Policy,
  input: EvaluationInput,
  ctx: FactContext,
  tree: NodeResult,
): Evaluation {
  const amount = tree.value === true ? computeAmount(policy.amount, ctx) : undefined;
  // Facts only the amount reads are needed like any other: reported missing even when a condition fails.
  const amountReasons = amount ? (amount.ok ? [] : amount.reasons) : amountMissing(policy.amount, ctx);
  const g = ctx.base('guardians');
  return buildEvaluation({
    policy,
    input,
    period: ctx.period,
    tree,
    amount,
    amountReasons,
    paramsRead: ctx.paramsRead,
    eligibleFor: ctx.eligibleFor,
    guardians: g.known ? (g.value as string[]) : [],
  });
}

/** What an Evaluation is built from, whichever evaluator worked it out. */
export interface EvaluationParts {
  policy: Policy;
  input: EvaluationInput;
  period: PeriodInfo;
  tree: NodeResult;
  /** The computed amount; undefined when the tree is not true. */
  amount: AmountResult | undefined;
  /** Why the amount could not be computed (or which of its facts are missing). */
  amountReasons: string[];
  paramsRead: ReadonlyMap<string, ParamInForce>;
  eligibleFor: ReadonlyMap<string, Evaluation>;
  /** The subject's guardians (notified for a child), empty when unknown. */
  guardians: readonly string[];
}

/**
 * The one assembly of an Evaluation (outcome, amount, reasons, facts used, notification plan and
 * explanation): the reference and the compiled evaluator both build their results here.
 */
export function buildEvaluation(p: EvaluationParts): Evaluation {
  const { policy, input, period, tree, amount } = p;
  const eligible = tree.value === true && amount?.ok === true;
  const reasons = eligible ? [] : [...new Set([...reasonsOf(tree), ...p.amountReasons])];
  const outcome: Outcome = eligible ? 'eligible' : 'not-eligible';
  const value = eligible && amount?.ok ? amount.value : null;
  const factsUsed = [...new Set([...factsUsedOf(tree), ...(amount?.keys ?? [])])];
  const conditions = leavesOf(tree).map(explainLeaf);
  const parameters = [...p.paramsRead.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const dependsOn = [...p.eligibleFor.values()].map((e) => e.explanation);
  const lines = [
    `${policy.id} v${policy.version} for ${period.text} (from ${period.start}): ${outcome}${value !== null ? `, ${value} fen` : ''}`,
    ...conditions.map((c) => `  ${c.text}`),
    ...(amount ? [`  amount: ${amount.text}`] : []),
    ...parameters.map((x) => `  parameter ${x.name} = ${showParamValue(x.value)} (from ${x.from})`),
    ...(reasons.length ? [`  reasons: ${reasons.join(', ')}`] : []),
  ];
  let notification: NotificationPlan | null = null;
  if (eligible) {
    const templateIds = policy.notification.templateIds;
    if (policy.notification.recipients === 'subject')
      notification = { templateIds, recipients: [input.subject] };
    else {
      const ids = p.guardians;
      notification = ids.length
        ? { templateIds, recipients: [...ids] }
        : { templateIds, recipients: [], note: 'no guardians on record: nobody is notified' };
      if (!ids.length) lines.push('  notification: no guardians on record, nobody is notified');
    }
  }
  return {
    subject: input.subject,
    policy: policy.id,
    period: period.text,
    outcome,
    amount: value,
    reasons,
    ruleVersion: policy.version,
    factsUsed,
    notification,
    explanation: {
      policy: policy.id,
      ruleVersion: policy.version,
      ruleHash: policy.contentHash,
      period: period.text,
      periodStart: period.start,
      outcome,
      reasons,
      effective: { ...policy.effective, inside: true },
      conditions,
      amount: amount ? { text: amount.text, value } : null,
      parameters,
      dependsOn,
      lines,
    },
  };
}

/** Policy ids named by `eligibleFor:<policy>` facts in a condition tree, in file order. */
export function eligibleForTargets(node: ConditionNode): string[] {
  if (isLeaf(node))
    return node.fact.startsWith(ELIGIBLE_FOR_PREFIX) ? [node.fact.slice(ELIGIBLE_FOR_PREFIX.length)] : [];
  if ('not' in node) return eligibleForTargets(node.not);
  return [...new Set(('all' in node ? node.all : node.any).flatMap(eligibleForTargets))];
}

/** The type a parameter value has, for messages. */
export function paramValueKind(v: ParamValue): string {
  return typeof v === 'object' ? 'ratio' : typeof v;
}
