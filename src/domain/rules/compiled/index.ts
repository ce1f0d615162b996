/**
 * The compiled evaluator: every policy's condition tree, derived facts and amount are turned once
 * into plain JavaScript closures (never `eval` or `new Function` of rule text), so evaluating a
 * population costs a few comparisons per condition instead of a json-rules-engine run.
 *
 * - Compile once per policy set: fact slots, leaf order, the shape of each tree.
 * - Bind once per (policy, period): parameters resolved to their value in force on the period's
 *   first day, thresholds and operators captured in the leaf closures, derived facts bound to the
 *   period. Bindings are cached.
 * - Per subject: base facts are read once into slots, derived facts are computed lazily once, and
 *   each condition tree is evaluated in one pass that also collects its reasons (see compileNode).
 *
 * Two paths share the same closures: `evaluateSync` gives the `pb evaluate` line (outcome, amount,
 * reasons) for bulk work, `evaluateFullSync`/`evaluate` the whole `Evaluation` (explanation,
 * factsUsed, notification) exactly as the reference evaluator builds it. The semantics are those of
 * evaluation.ts; the differential test holds the two evaluators to the same output.
 */
import { factDefinition } from '../../facts/catalogue.ts';
import { derivedFact, ELIGIBLE_FOR_PREFIX, type PeriodInfo, parsePeriod } from '../../facts/derived.ts';
import type { EvaluationResult, Period } from '../../types.ts';
import {
  type AmountResult,
  buildEvaluation,
  combineTree,
  type EvaluateOptions,
  type Evaluation,
  type EvaluationInput,
  type Evaluator,
  eligibleForTargets,
  insideWindow,
  isLeaf,
  type LeafResult,
  leafConditions,
  type NodeResult,
  outsideWindow,
  sensitivityOf,
} from '../evaluation.ts';
import type { AmountSpec, ConditionNode, LeafCondition, NumberOrParam, Operator, Policy } from '../model.ts';
import { type ParamInForce, showParamValue, valueInForce } from '../params.ts';
import type { PolicySet } from '../policy-set.ts';
import { FORBIDDEN_SEGMENTS, SAFE_PATH } from '../validate.ts';
import { bindDerived, type DerivedFn } from './derived.ts';
import { FactTable, INVALID, isMissing, keyOf, type Read, UNKNOWN, yearInherited } from './facts.ts';
import { percentHalfUpFast } from './money.ts';

/** The compiled evaluator: the `Evaluator` port plus synchronous paths for bulk work. */
export interface CompiledEvaluator extends Evaluator {
  readonly name: 'compiled';
  /**
   * The `pb evaluate` result of every policy the reference would evaluate (same policies, order,
   * outcome, amount and reasons), without explanation: the fast path for populations. Each result
   * has exactly the keys of a `pb evaluate` output line, in cli.md's order, so `JSON.stringify` of
   * it is that line. Synchronous and not re-entrant (one evaluator, one subject at a time).
   */
  evaluateSync(input: EvaluationInput, period: Period, opts?: EvaluateOptions): EvaluationResult[];
  /** The whole `Evaluation`s (explanation, factsUsed, notification), synchronously. */
  evaluateFullSync(input: EvaluationInput, period: Period, opts?: EvaluateOptions): Evaluation[];
}

// ---------------------------------------------------------------------------------------------
// Three-valued results as small integers (cheaper than boolean | 'unknown' in the hot path)

const F = 0;
const T = 1;
const U = 2;
type TriCode = 0 | 1 | 2;

const MISSING_REASON = /^missing-(fact|parameter):/;

// ---------------------------------------------------------------------------------------------
// The per-subject frame: base facts and derived facts read at most once per evaluation call.

/**
 * State of one evaluation call. `gen` changes on every call, so a slot or memo stamped with an
 * older generation is stale without clearing anything.
 */
class Frame {
  gen = 0;
  facts: Record<string, unknown> = {};
  year = 0;
  /** `yearInherited(year)`, once per call. */
  inherited = false;
  /** `FactTable.ownSafe(facts)`, once per call. */
  ownSafe = false;
  readonly baseGen: Float64Array;
  readonly baseVal: Read[];
  readonly derivedGen: Float64Array;
  readonly derivedVal: Read[];

  constructor(
    readonly table: FactTable,
    derivedSlots: number,
  ) {
    this.baseGen = new Float64Array(table.size);
    this.baseVal = new Array<Read>(table.size).fill(UNKNOWN);
    this.derivedGen = new Float64Array(derivedSlots);
    this.derivedVal = new Array<Read>(derivedSlots).fill(UNKNOWN);
  }

  /** The base fact of `slot` for this call: read on first use, then from the slot. */
  base(slot: number): Read {
    if (this.baseGen[slot] === this.gen) return this.baseVal[slot];
    const v = this.table.read(this.facts, slot, this.year, this.inherited, this.ownSafe);
    this.baseGen[slot] = this.gen;
    this.baseVal[slot] = v;
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Readings bound to a period: what a condition or an amount reads.

/** A fact as a condition or amount reads it, bound to one period. */
interface BoundReading {
  /** The value (after any absent-means default), or UNKNOWN. */
  get(fr: Frame): Read;
  /**
   * Appends the `missing-…` reasons of an UNKNOWN reading, in the reference's order; `uniq` skips
   * reasons already in `out` (reason lists), otherwise every one is appended (explanations).
   */
  missing(fr: Frame, out: string[], uniq: boolean): void;
  /** The fact keys it rests on (explanations and factsUsed only). */
  keys(fr: Frame, full: FullContext): string[];
  /** Set for a base fact whose absence is unknown: its slot, so a leaf can read it inline. */
  plainSlot?: number;
}

/** What the full (explaining) path needs besides the frame. */
interface FullContext {
  input: EvaluationInput;
  memo: Map<string, Evaluation>;
}

/** A parameter reference or literal resolved for a period. */
interface Resolved {
  value: unknown;
  param?: ParamInForce;
  missing?: string;
}

/** Pushes a reason unless already present: `[...new Set(list)]` without building the set. */
const pushReason = (out: string[], r: string): void => {
  // A loop the compiler inlines, rather than a call to `includes`, for these short lists.
  for (let i = 0; i < out.length; i++) if (out[i] === r) return;
  out.push(r);
};
/** `out.length = mark`, without the call it costs when nothing is cut. */
const cut = (out: string[], mark: number): void => {
  if (out.length !== mark) out.length = mark;
};
/** `list.indexOf(a) > -1` (strict equality), as a loop the compiler inlines. */
const listHas = (list: readonly unknown[], a: unknown): boolean => {
  for (let i = 0; i < list.length; i++) if (list[i] === a) return true;
  return false;
};
const push = (out: string[], r: string, uniq: boolean): void => {
  if (!uniq || !out.includes(r)) out.push(r);
};

// ---------------------------------------------------------------------------------------------
// Operators, pre-bound to their right-hand side. Each is json-rules-engine's operator exactly
// (validator, then callback), plus the project's `startsWith`.

const numberValidator = (a: unknown): boolean => Number.parseFloat(a as string).toString() !== 'NaN';

function bindOperator(op: Operator, b: unknown): (a: unknown) => boolean {
  switch (op) {
    case 'equal':
      return (a) => a === b;
    case 'notEqual':
      return (a) => a !== b;
    case 'in': {
      const list = b as { indexOf(x: unknown): number };
      return (a) => list.indexOf(a) > -1;
    }
    case 'notIn': {
      const list = b as { indexOf(x: unknown): number };
      return (a) => list.indexOf(a) === -1;
    }
    case 'contains':
      return (a) => Array.isArray(a) && a.indexOf(b) > -1;
    case 'doesNotContain':
      return (a) => Array.isArray(a) && a.indexOf(b) === -1;
    // For a number the validator only refuses NaN, which compares false anyway.
    case 'lessThan':
      return (a) =>
        typeof a === 'number' ? a < (b as number) : numberValidator(a) && (a as number) < (b as number);
    case 'lessThanInclusive':
      return (a) =>
        typeof a === 'number' ? a <= (b as number) : numberValidator(a) && (a as number) <= (b as number);
    case 'greaterThan':
      return (a) =>
        typeof a === 'number' ? a > (b as number) : numberValidator(a) && (a as number) > (b as number);
    case 'greaterThanInclusive':
      return (a) =>
        typeof a === 'number' ? a >= (b as number) : numberValidator(a) && (a as number) >= (b as number);
    case 'startsWith': {
      if (typeof b !== 'string') return () => false;
      return (a) => typeof a === 'string' && a.startsWith(b);
    }
  }
}

/** A condition `path` as pre-split dotted own properties (the reference's strict resolver). */
function compilePath(path: string): (v: unknown) => unknown {
  if (!SAFE_PATH.test(path)) throw new Error(`refused condition path '${path}': dotted property names only`);
  const segs = path.split('.');
  if (segs.some((s) => FORBIDDEN_SEGMENTS.has(s))) throw new Error(`refused condition path '${path}'`);
  // json-rules-engine applies the resolver to objects only and passes any other value through.
  return (value) => {
    if (value === null || typeof value !== 'object') return value;
    let cur: unknown = value;
    for (const seg of segs) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
    return cur;
  };
}

// ---------------------------------------------------------------------------------------------
// Condition trees in one pass
//
// Each node evaluates its parts in file order and appends its reasons to `out` as it goes; a node
// that turns out true, or a part whose reasons the reference would not report (a false part of a
// named `any`), has its reasons cut off again (`out.length = mark`) as soon as it is decided. So
// `out` ends up exactly as `reasonsOf` (evaluation.ts) reads the evaluated tree, without building
// the tree: a subject that fails costs one pass, not an evaluation and then a walk.

type NodeFn = (f: Frame, out: string[]) => TriCode;

/**
 * The parts of an `all` or `any`: a part that is a plain leaf (see PlainLeaf) is evaluated inline by
 * the node's own loop, through one monomorphic function, instead of through a call to its closure
 * (a polymorphic call site that V8 cannot inline); any other part is called.
 */
interface Parts {
  n: number;
  kids: NodeFn[];
  /** The plain leaf of each part, or undefined. */
  plain: (PlainLeaf | undefined)[];
}

/** Compiles a condition tree; `nextLeaf` hands out the bound leaves in file order. */
function compileNode(node: ConditionNode, nextLeaf: () => BoundLeaf): NodeFn {
  if (isLeaf(node)) return compileLeaf(nextLeaf());
  if ('not' in node) {
    const child = compileNode(node.not, nextLeaf);
    const name = node.name;
    const notNode: NodeFn = (f, out) => {
      const mark = out.length;
      const v = child(f, out);
      if (v === U) return U; // the reasons of the unknown part stand
      if (v === T) {
        pushReason(out, name);
        return F;
      }
      cut(out, mark);
      return T;
    };
    return notNode;
  }
  const isAll = 'all' in node;
  const parts: Parts = { n: 0, kids: [], plain: [] };
  for (const c of isAll ? node.all : node.any) {
    if (isLeaf(c)) {
      const l = nextLeaf();
      parts.kids.push(compileLeaf(l));
      parts.plain.push(plainLeafOf(l));
    } else {
      parts.kids.push(compileNode(c, nextLeaf));
      parts.plain.push(undefined);
    }
  }
  parts.n = parts.kids.length;
  if (isAll) return (f, out) => allOf(parts, f, out);
  const name = node.name;
  if (name === undefined) return (f, out) => anyOf(parts, f, out);
  return (f, out) => namedAnyOf(parts, name, f, out);
}

/** Evaluates part `j`. */
const part = (p: Parts, j: number, f: Frame, out: string[]): TriCode => {
  const leaf = p.plain[j];
  return leaf !== undefined ? evalPlain(leaf, f, out) : p.kids[j]!(f, out);
};

/** `all`. No short cut: a false `all` reports every part that is not true. */
function allOf(p: Parts, f: Frame, out: string[]): TriCode {
  let r: TriCode = T;
  for (let j = 0; j < p.n; j++) {
    const v = part(p, j, f, out);
    if (v === F) r = F;
    else if (v === U && r === T) r = U;
  }
  return r;
}

/** An unnamed `any`: its reasons are those of its parts, dropped when a part is true. */
function anyOf(p: Parts, f: Frame, out: string[]): TriCode {
  const mark = out.length;
  let r: TriCode = F;
  for (let j = 0; j < p.n; j++) {
    const v = part(p, j, f, out);
    if (v === T) {
      cut(out, mark);
      return T;
    }
    if (v === U) r = U;
  }
  return r;
}

/** A named `any`: false reports its own name; unknown, the reasons of its unknown parts only. */
function namedAnyOf(p: Parts, name: string, f: Frame, out: string[]): TriCode {
  const mark = out.length;
  let r: TriCode = F;
  for (let j = 0; j < p.n; j++) {
    const partMark = out.length;
    const v = part(p, j, f, out);
    if (v === T) {
      cut(out, mark);
      return T;
    }
    if (v === U) r = U;
    else cut(out, partMark);
  }
  if (r === F) pushReason(out, name);
  return r;
}

const EQ = 1;
const NE = 2;
const LT = 3;
const LE = 4;
const GT = 5;
const GE = 6;
const IN = 7;
const NOT_IN = 8;
const OTHER = 0;
/** Operators compared in place when both sides are numbers (json-rules-engine's result for numbers). */
const NUMERIC_CODES: Partial<Record<Operator, number>> = {
  equal: EQ,
  notEqual: NE,
  lessThan: LT,
  lessThanInclusive: LE,
  greaterThan: GT,
  greaterThanInclusive: GE,
};

/**
 * The common leaf: a base fact whose absence is unknown, without `path`, compared with a literal or
 * a parameter in force, read from its frame slot. One class for every operator (a switch on a
 * constant code), so the code that evaluates it stays monomorphic and inlines.
 */
class PlainLeaf {
  constructor(
    readonly slot: number,
    readonly code: number,
    /** The threshold. */
    readonly b: unknown,
    /** The threshold when it is a number, NaN otherwise. */
    readonly nb: number,
    /** The threshold when it is an array (`in`, `notIn`), empty otherwise. */
    readonly list: readonly unknown[],
    readonly test: (a: unknown) => boolean,
    readonly name: string,
    /** `missing-fact:<fact>`. */
    readonly reason: string,
  ) {}
}

/** The plain leaf of a bound leaf, or undefined when it is not one. */
function plainLeafOf(l: BoundLeaf): PlainLeaf | undefined {
  const slot = l.reading.plainSlot;
  if (slot === undefined || l.leaf.path !== undefined || l.threshold.missing !== undefined) return undefined;
  const b = l.threshold.value;
  const op = l.leaf.operator;
  let code = OTHER;
  if (typeof b === 'number') code = NUMERIC_CODES[op] ?? OTHER;
  else if (op === 'equal') code = EQ;
  if (Array.isArray(b) && (op === 'in' || op === 'notIn')) code = op === 'in' ? IN : NOT_IN;
  return new PlainLeaf(
    slot,
    code,
    b,
    typeof b === 'number' ? b : Number.NaN,
    Array.isArray(b) ? b : [],
    l.test,
    l.leaf.name,
    `missing-fact:${l.leaf.fact}`,
  );
}

/**
 * A plain leaf: numbers are compared in place, `in`/`notIn` a list searched in place (what the
 * operator does), anything else goes to the operator; false reports the leaf's name, an unknown
 * fact its `missing-fact` reason.
 */
function evalPlain(l: PlainLeaf, f: Frame, out: string[]): TriCode {
  const r = f.base(l.slot);
  let ok: boolean;
  if (typeof r === 'number') {
    switch (l.code) {
      case EQ:
        ok = r === l.b;
        break;
      case NE:
        ok = r !== l.b;
        break;
      case LT:
        ok = r < l.nb;
        break;
      case LE:
        ok = r <= l.nb;
        break;
      case GT:
        ok = r > l.nb;
        break;
      case GE:
        ok = r >= l.nb;
        break;
      case IN:
        ok = listHas(l.list, r);
        break;
      case NOT_IN:
        ok = !listHas(l.list, r);
        break;
      default:
        ok = l.test(r);
    }
  } else if (isMissing(r)) {
    pushReason(out, l.reason);
    return U;
  } else if (l.code === EQ) ok = r === l.b;
  else if (l.code === IN) ok = listHas(l.list, r);
  else if (l.code === NOT_IN) ok = !listHas(l.list, r);
  else ok = l.test(r);
  if (ok) return T;
  pushReason(out, l.name);
  return F;
}

/** A leaf: reads its fact, compares, and reports its name (false) or its missing facts (unknown). */
function compileLeaf(l: BoundLeaf): NodeFn {
  const { reading, lhs, test } = l;
  const name = l.leaf.name;
  const tm = l.threshold.missing;
  if (tm !== undefined) {
    // No parameter value in force: unknown whatever the fact.
    const missingParamLeaf: NodeFn = (f, out) => {
      if (reading.get(f) === UNKNOWN) reading.missing(f, out, true);
      pushReason(out, tm);
      return U;
    };
    return missingParamLeaf;
  }
  const plain = plainLeafOf(l);
  if (plain !== undefined) return (f, out) => evalPlain(plain, f, out);
  const leaf: NodeFn = (f, out) => {
    const r = reading.get(f);
    if (r === UNKNOWN) {
      reading.missing(f, out, true);
      return U;
    }
    if (test(lhs(r))) return T;
    pushReason(out, name);
    return F;
  };
  return leaf;
}

// ---------------------------------------------------------------------------------------------
// Compiled policies

/** A leaf of a bound policy. */
interface BoundLeaf {
  leaf: LeafCondition;
  reading: BoundReading;
  threshold: Resolved;
  /** The compared value after `path`. */
  lhs(v: Read): unknown;
  test(a: unknown): boolean;
}

/** A compiled amount bound to a period. */
interface BoundAmount {
  /** The amount in fen, or the reasons it cannot be computed. */
  fast(fr: Frame): number | string[];
  /** The same with keys, explanation text and the parameters read. */
  full(fr: Frame, fc: FullContext, paramsRead: Map<string, ParamInForce>): AmountResult;
  /**
   * The `missing-fact:` reasons of the fact the amount is computed from, without computing it
   * (`amountMissing`): reported even when a condition already failed.
   */
  missing(fr: Frame, out: string[], uniq: boolean): void;
}

/** One policy bound to one period. */
interface BoundPolicy {
  policy: Policy;
  period: PeriodInfo;
  inside: boolean;
  leaves: BoundLeaf[];
  /**
   * Evaluates the condition tree in one pass and appends to `out` exactly the reasons the
   * reference's `reasonsOf` gives (in order, without repeats) when the tree is not true.
   */
  tree: (fr: Frame, out: string[]) => TriCode;
  amount: BoundAmount;
  /** Parameters in force that the conditions read (explanations). */
  leafParams: ParamInForce[];
  /** `eligibleFor:` targets present in the set, in file order. */
  deps: BoundPolicy[];
  memoGen: number;
  memo: EvaluationResult | undefined;
}

/** Per-period cache of bindings and of the policies each kind of subject gets. */
interface PeriodEntry {
  info: PeriodInfo;

  bound: Map<string, BoundPolicy>;
  byKind: Map<string, BoundPolicy[]>;
}

const PERIOD_CACHE_LIMIT = 4096;

/**
 * Compiles a policy set into the compiled evaluator. Fact slots and reading templates are built
 * here; bindings per period are built on first use and cached.
 *
 * @param set - A loaded, validated policy set (`loadPolicySet`).
 */
export function createCompiledEvaluator(set: PolicySet): CompiledEvaluator {
  const byId = new Map(set.policies.map((p) => [p.id, p]));

  // Base fact slots, shared by every policy: a fact is read at most once per evaluation call.
  const baseSlotOf = new Map<string, number>();
  const table = new FactTable();
  const baseSlot = (name: string): number => {
    let s = baseSlotOf.get(name);
    if (s === undefined) {
      s = table.add(name, factDefinition(name));
      baseSlotOf.set(name, s);
    }
    return s;
  };
  // Derived slots: one per derived name and raw params (the same params resolve alike in a period).
  const derivedSlotOf = new Map<string, number>();
  const derivedSlot = (name: string, rawParams: Record<string, NumberOrParam> | undefined): number => {
    const key = `${name}\u0000${JSON.stringify(rawParams ?? {})}`;
    let s = derivedSlotOf.get(key);
    if (s === undefined) {
      s = derivedSlotOf.size;
      derivedSlotOf.set(key, s);
    }
    return s;
  };
  // Register every slot before the frame is sized.
  const registerReading = (fact: string, rawParams?: Record<string, NumberOrParam>): void => {
    if (fact.startsWith(ELIGIBLE_FOR_PREFIX)) return;
    const d = derivedFact(fact);
    if (!d) {
      baseSlot(fact);
      return;
    }
    for (const input of d.inputs) baseSlot(input);
    derivedSlot(fact, rawParams);
  };
  const registerAmount = (a: AmountSpec): void => {
    if (a.kind === 'perCountedMonth') registerReading('countedMonths');
    else if (a.kind === 'percentOf') registerReading(a.fact);
    else if (a.kind === 'tiered') {
      registerReading(a.fact);
      for (const t of a.tiers) registerAmount(t.amount);
    }
  };
  const leavesOfPolicy = new Map<string, LeafCondition[]>();
  for (const p of set.policies) {
    const leaves = leafConditions(p.conditions);
    for (const l of leaves) registerReading(l.fact, l.params);
    registerAmount(p.amount);
    leavesOfPolicy.set(p.id, leaves);
  }
  const guardiansSlot = baseSlot('guardians');
  const fr = new Frame(table, derivedSlotOf.size);

  const readBase = (f: Frame, slot: number): Read => f.base(slot);

  // ------------------------------------------------------------------------------------------
  // Binding to a period

  const periods = new Map<string, PeriodEntry>();

  const resolve = (v: unknown, period: PeriodInfo): Resolved => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const name = (v as { param: string }).param;
      const p = set.params.get(name);
      const inForce = p ? valueInForce(p, period.start) : undefined;
      return inForce
        ? { value: inForce.value, param: inForce }
        : { value: undefined, missing: `missing-parameter:${name}` };
    }
    return { value: v };
  };

  function bindReading(
    fact: string,
    rawParams: Record<string, NumberOrParam> | undefined,
    entry: PeriodEntry,
    paramsSeen: ParamInForce[],
  ): BoundReading {
    const period = entry.info;
    if (fact.startsWith(ELIGIBLE_FOR_PREFIX)) return bindEligibleFor(fact, entry);
    const d = derivedFact(fact);
    if (!d) {
      const slot = baseSlot(fact);
      const absentOk = factDefinition(fact)?.absentMeans !== undefined;
      const key = keyOf(fact, period.year);
      const reason = `missing-fact:${fact}`;
      if (absentOk) {
        // Absent means a value (alive, no expiry); present but malformed is unknown.
        return {
          get: (f) => {
            const v = readBase(f, slot);
            return v === UNKNOWN ? undefined : v === INVALID ? UNKNOWN : v;
          },
          missing: (f, out, uniq) => {
            if (readBase(f, slot) === INVALID) push(out, reason, uniq);
          },
          keys: (f) => (isMissing(readBase(f, slot)) ? [] : [key]),
        };
      }
      return {
        get: (f) => {
          const v = readBase(f, slot);
          return isMissing(v) ? UNKNOWN : v;
        },
        missing: (_f, out, uniq) => push(out, reason, uniq),
        keys: (f) => (isMissing(readBase(f, slot)) ? [] : [key]),
        plainSlot: slot,
      };
    }
    // A derived fact: its inputs, its params resolved for the period, its bound computation.
    const inputs = d.inputs.map((name) => ({
      slot: baseSlot(name),
      required: factDefinition(name)?.absentMeans === undefined,
      reason: `missing-fact:${name}`,
      key: keyOf(name, period.year),
    }));
    const params: Record<string, unknown> = {};
    const paramMissing: string[] = [];
    for (const [k, v] of Object.entries(rawParams ?? {})) {
      const r = resolve(v, period);
      if (r.missing) paramMissing.push(r.missing);
      if (r.param) paramsSeen.push(r.param);
      params[k] = r.value;
    }
    const slot = derivedSlot(fact, rawParams);
    const fn: DerivedFn = bindDerived(d, period, params);
    const values: unknown[] = new Array(inputs.length).fill(undefined);
    const n = inputs.length;
    const get = (f: Frame): Read => {
      if (paramMissing.length) return UNKNOWN;
      if (f.derivedGen[slot] === f.gen) return f.derivedVal[slot];
      let v: Read;
      let known = true;
      for (let i = 0; i < n; i++) {
        const inp = inputs[i]!;
        const r = readBase(f, inp.slot);
        if (isMissing(r)) {
          // A malformed optional input (a death date that is no date) is unknown, not absent.
          if (inp.required || r === INVALID) {
            known = false;
            break;
          }
          values[i] = undefined;
        } else values[i] = r;
      }
      if (known) v = fn(values, f.facts);
      else v = UNKNOWN;
      f.derivedGen[slot] = f.gen;
      f.derivedVal[slot] = v;
      return v;
    };
    return {
      get,
      missing: (f, out, uniq) => {
        for (const inp of inputs) {
          const r = readBase(f, inp.slot);
          if (r === INVALID || (r === UNKNOWN && inp.required)) push(out, inp.reason, uniq);
        }
        for (const m of paramMissing) push(out, m, uniq);
      },
      keys: (f) => inputs.filter((inp) => !isMissing(readBase(f, inp.slot))).map((inp) => inp.key),
    };
  }

  /** `eligibleFor:<policy>`: the other policy's decision for the same subject and period. */
  function bindEligibleFor(fact: string, entry: PeriodEntry): BoundReading {
    const target = fact.slice(ELIGIBLE_FOR_PREFIX.length);
    if (!byId.has(target)) {
      const reason = `missing-fact:${fact}`;
      return { get: () => UNKNOWN, missing: (_f, out, uniq) => push(out, reason, uniq), keys: () => [] };
    }
    // Bound lazily: the target may not be bound yet for this period (policies bind in id order).
    let dep: BoundPolicy | undefined;
    const depOf = (): BoundPolicy => {
      dep ??= bindPolicy(byId.get(target)!, entry);
      return dep;
    };
    // Not eligible for missing facts only is unknown, and the missing facts are the reasons.
    const onlyMissing = (r: EvaluationResult): boolean =>
      r.outcome !== 'eligible' && r.reasons.every((x) => MISSING_REASON.test(x));
    return {
      get: (f) => {
        const r = lean(depOf(), f);
        if (r.outcome === 'eligible') return true;
        return onlyMissing(r) ? UNKNOWN : false;
      },
      missing: (f, out, uniq) => {
        for (const x of lean(depOf(), f).reasons) push(out, x, uniq);
      },
      keys: (f, fc) => full(depOf(), f, fc).factsUsed,
    };
  }

  function bindLeaf(leaf: LeafCondition, entry: PeriodEntry, paramsSeen: ParamInForce[]): BoundLeaf {
    const reading = bindReading(leaf.fact, leaf.params, entry, paramsSeen);
    const threshold = resolve(leaf.value, entry.info);
    if (threshold.param) paramsSeen.push(threshold.param);
    const path = leaf.path === undefined ? undefined : compilePath(leaf.path);
    return {
      leaf,
      reading,
      threshold,
      lhs: path ?? ((v) => v),
      test: bindOperator(leaf.operator, threshold.value),
    };
  }

  function bindPolicy(policy: Policy, entry: PeriodEntry): BoundPolicy {
    const existing = entry.bound.get(policy.id);
    if (existing) return existing;
    const period = entry.info;
    const leafConditions = leavesOfPolicy.get(policy.id)!;
    const bp: BoundPolicy = {
      policy,
      period,
      inside: insideWindow(policy, period.text),
      leaves: [],
      tree: () => U,
      amount: {
        fast: () => [],
        full: () => ({ ok: false, reasons: [], keys: [], text: '' }),
        missing: () => {},
      },
      leafParams: [],
      deps: [],
      memoGen: -1,
      memo: undefined,
    };
    // Registered before binding the parts, so eligibleFor cycles (refused by validation) cannot recurse.
    entry.bound.set(policy.id, bp);
    const paramsSeen: ParamInForce[] = [];
    bp.leaves = leafConditions.map((l) => bindLeaf(l, entry, paramsSeen));
    bp.leafParams = paramsSeen;
    bp.deps = eligibleForTargets(policy.conditions)
      .filter((t) => byId.has(t))
      .map((t) => bindPolicy(byId.get(t)!, entry));

    let next = 0;
    bp.tree = compileNode(policy.conditions, () => bp.leaves[next++]!);
    bp.amount = bindAmount(policy.amount, entry);
    return bp;
  }

  // ------------------------------------------------------------------------------------------
  // Amounts

  function bindAmount(spec: AmountSpec, entry: PeriodEntry): BoundAmount {
    const period = entry.info;
    const unused: ParamInForce[] = [];
    const record = (m: Map<string, ParamInForce>, r: Resolved | undefined): void => {
      if (r?.param) m.set(r.param.name, r.param);
    };
    const show = (r: Resolved): string =>
      r.param ? `${showParamValue(r.param.value)} [${r.param.name} from ${r.param.from}]` : String(r.value);
    const failed = (reasons: string[], keys: string[], text: string): AmountResult => ({
      ok: false,
      reasons,
      keys,
      text,
    });
    switch (spec.kind) {
      case 'fixed': {
        const v = resolve(spec.value, period);
        const value = v.value as number;
        const reasons = v.missing ? [v.missing] : undefined;
        return {
          fast: () => (reasons ? [...reasons] : value),
          missing: () => {},
          full: (_f, _fc, pr) => {
            record(pr, v);
            if (v.missing) return failed([v.missing], [], `fixed: ${v.missing}`);
            return { ok: true, value, keys: [], text: `fixed ${show(v)} = ${value}` };
          },
        };
      }
      case 'perCountedMonth': {
        const months = bindReading('countedMonths', undefined, entry, unused);
        const per = resolve(spec.perMonth, period);
        const perValue = per.value as number;
        const reasonsOf = (f: Frame): string[] => {
          const out: string[] = [];
          if (months.get(f) === UNKNOWN) missingList(months, f, out);
          if (per.missing) out.push(per.missing);
          return out;
        };
        return {
          fast: (f) => {
            const m = months.get(f);
            if (m === UNKNOWN || per.missing) return reasonsOf(f);
            return (m as number) * perValue;
          },
          full: (f, fc, pr) => {
            record(pr, per);
            const m = months.get(f);
            const keys = months.keys(f, fc);
            const reasons = reasonsOf(f);
            if (reasons.length) return failed(reasons, keys, `countedMonths × ${show(per)}: unknown`);
            const value = (m as number) * perValue;
            return { ok: true, value, keys, text: `countedMonths × ${show(per)} = ${value}` };
          },
          missing: (f, out, uniq) => readingMissing(months, f, out, uniq),
        };
      }
      case 'percentOf': {
        const base = bindReading(spec.fact, undefined, entry, unused);
        const n = resolve(spec.numerator, period);
        const d = resolve(spec.denominator, period);
        const num = n.value as number;
        const den = d.value as number;
        const fixedMissing = [n.missing, d.missing].filter((x): x is string => !!x);
        const reasonsOf = (f: Frame): string[] => {
          const out: string[] = [];
          if (base.get(f) === UNKNOWN) missingList(base, f, out);
          out.push(...fixedMissing);
          return out;
        };
        const formula = `${spec.fact} × ${show(n)} / ${show(d)}, rounded half-up to a fen`;
        const visible = ['public', 'internal'].includes(sensitivityOf(spec.fact));
        return {
          fast: (f) => {
            const b = base.get(f);
            if (b === UNKNOWN || fixedMissing.length) return reasonsOf(f);
            return percentHalfUpFast(b as number, num, den);
          },
          full: (f, fc, pr) => {
            record(pr, n);
            record(pr, d);
            const b = base.get(f);
            const keys = base.keys(f, fc);
            const reasons = reasonsOf(f);
            if (reasons.length || b === UNKNOWN) return failed(reasons, keys, `${formula}: unknown`);
            const value = percentHalfUpFast(b as number, num, den);
            const shown = visible ? ` (${spec.fact} = ${String(b)})` : '';
            return { ok: true, value, keys, text: `${formula} = ${value}${shown}` };
          },
          missing: (f, out, uniq) => readingMissing(base, f, out, uniq),
        };
      }
      case 'tiered': {
        const fact = bindReading(spec.fact, undefined, entry, unused);
        const tiers = spec.tiers.map((t, i) => {
          const min = t.min === undefined ? undefined : resolve(t.min, period);
          const max = t.max === undefined ? undefined : resolve(t.max, period);
          const missing = [min?.missing, max?.missing].filter((x): x is string => !!x);
          const minV = min?.value as number;
          const maxV = max?.value as number;
          const list = t.in;
          const fits = (v: unknown): boolean =>
            (min === undefined || (typeof v === 'number' && v >= minV)) &&
            (max === undefined || (typeof v === 'number' && v <= maxV)) &&
            (list === undefined || list.includes(v as string | number));
          const bounds = [
            min ? `min ${show(min)}` : '',
            max ? `max ${show(max)}` : '',
            list ? `in ${JSON.stringify(list)}` : '',
          ]
            .filter(Boolean)
            .join(', ');
          return {
            min,
            max,
            missing,
            fits,
            label: `${spec.fact} in tier ${i + 1} (${bounds}): `,
            amount: bindAmount(t.amount, entry),
          };
        });
        const unknownText = `tier by ${spec.fact}: unknown`;
        return {
          fast: (f) => {
            const v = fact.get(f);
            if (v === UNKNOWN) return missingList(fact, f, []);
            for (const t of tiers) {
              if (t.missing.length) return [...t.missing];
              if (t.fits(v)) return t.amount.fast(f);
            }
            return ['no-amount-tier'];
          },
          full: (f, fc, pr) => {
            const v = fact.get(f);
            const keys = fact.keys(f, fc);
            if (v === UNKNOWN) return failed(missingList(fact, f, []), keys, unknownText);
            for (const t of tiers) {
              record(pr, t.min);
              record(pr, t.max);
              if (t.missing.length) return failed([...t.missing], keys, unknownText);
              if (!t.fits(v)) continue;
              const inner = t.amount.full(f, fc, pr);
              return { ...inner, keys: [...keys, ...inner.keys], text: `${t.label}${inner.text}` };
            }
            return failed(['no-amount-tier'], keys, `no tier of ${spec.fact} matches`);
          },
          missing: (f, out, uniq) => readingMissing(fact, f, out, uniq),
        };
      }
    }
  }

  /** Appends the `missing` reasons of a reading when it is unknown. */
  function readingMissing(r: BoundReading, f: Frame, out: string[], uniq: boolean): void {
    if (r.get(f) === UNKNOWN) r.missing(f, out, uniq);
  }

  /** The `missing` list of an UNKNOWN reading as the reference builds it (not deduplicated). */
  function missingList(r: BoundReading, f: Frame, out: string[]): string[] {
    r.missing(f, out, false);
    return out;
  }

  // ------------------------------------------------------------------------------------------
  // Evaluating

  function lean(bp: BoundPolicy, f: Frame): EvaluationResult {
    if (bp.memoGen === f.gen) return bp.memo!;
    const p = bp.policy;
    let outcome: 'eligible' | 'not-eligible' = 'not-eligible';
    let amount: number | null = null;
    let reasons: string[];
    if (!bp.inside) reasons = ['outside-effective-period'];
    else {
      reasons = [];
      if (bp.tree(f, reasons) === T) {
        const a = bp.amount.fast(f);
        if (typeof a === 'number') {
          outcome = 'eligible';
          amount = a;
        } else reasons = dedupe(a);
      } else {
        // Facts only the amount reads are reported missing even when a condition fails.
        bp.amount.missing(f, reasons, true);
      }
    }
    const r: EvaluationResult = {
      subject: currentSubject,
      policy: p.id,
      period: bp.period.text,
      outcome,
      amount,
      reasons,
    };
    bp.memoGen = f.gen;
    bp.memo = r;
    return r;
  }

  function full(bp: BoundPolicy, f: Frame, fc: FullContext): Evaluation {
    const cached = fc.memo.get(bp.policy.id);
    if (cached) return cached;
    const policy = bp.policy;
    if (!bp.inside) {
      const e = outsideWindow(policy, fc.input, bp.period);
      fc.memo.set(policy.id, e);
      return e;
    }
    const eligibleFor = new Map<string, Evaluation>();
    for (const dep of bp.deps) eligibleFor.set(dep.policy.id, full(dep, f, fc));
    let i = 0;
    const tree = combineTree(policy.conditions, '$.conditions', (): LeafResult => leafResult(bp, i++, f, fc));
    const paramsRead = new Map<string, ParamInForce>();
    for (const p of bp.leafParams) paramsRead.set(p.name, p);
    const amount = tree.value === true ? bp.amount.full(f, fc, paramsRead) : undefined;
    const e = assemble(bp, fc.input, tree, amount, paramsRead, eligibleFor, f);
    fc.memo.set(policy.id, e);
    return e;
  }

  function leafResult(bp: BoundPolicy, i: number, f: Frame, fc: FullContext): LeafResult {
    const l = bp.leaves[i]!;
    const r = l.reading.get(f);
    const keys = l.reading.keys(f, fc);
    const threshold = l.threshold.param
      ? { value: l.threshold.value, param: l.threshold.param }
      : { value: l.threshold.value };
    if (r === UNKNOWN || l.threshold.missing !== undefined) {
      const missing: string[] = [];
      if (r === UNKNOWN) l.reading.missing(f, missing, false);
      if (l.threshold.missing !== undefined) missing.push(l.threshold.missing);
      return { value: 'unknown', missing, keys, factValue: undefined, threshold };
    }
    const factValue = l.lhs(r);
    return { value: l.test(factValue), missing: [], keys, factValue, threshold };
  }

  /** The Evaluation from an evaluated tree, through the reference's own assembly. */
  function assemble(
    bp: BoundPolicy,
    input: EvaluationInput,
    tree: NodeResult,
    amount: AmountResult | undefined,
    paramsRead: Map<string, ParamInForce>,
    eligibleFor: Map<string, Evaluation>,
    f: Frame,
  ): Evaluation {
    let amountReasons: string[] = [];
    if (amount) amountReasons = amount.ok ? [] : amount.reasons;
    else bp.amount.missing(f, amountReasons, false);
    const g = readBase(f, guardiansSlot);
    return buildEvaluation({
      policy: bp.policy,
      input,
      period: bp.period,
      tree,
      amount,
      amountReasons,
      paramsRead,
      eligibleFor,
      guardians: isMissing(g) ? [] : (g as string[]),
    });
  }

  // ------------------------------------------------------------------------------------------
  // Entry points

  let lastPeriodText: string | undefined;
  let lastEntry: PeriodEntry | undefined;
  let currentSubject = '';

  const periodEntry = (text: string): PeriodEntry => {
    if (text === lastPeriodText && lastEntry) return lastEntry;
    let entry = periods.get(text);
    if (!entry) {
      const info = parsePeriod(text);
      if (!info) throw new Error(`invalid period '${text}': use YYYY or YYYY-MM`);
      if (periods.size >= PERIOD_CACHE_LIMIT) periods.clear();
      entry = { info, bound: new Map(), byKind: new Map() };
      periods.set(text, entry);
    }
    lastPeriodText = text;
    lastEntry = entry;
    return entry;
  };

  /** The policies the reference's `selectPolicies` picks, bound, cached per kind and option. */
  let lastSel:
    | { entry: PeriodEntry; kind: string; policy: string | undefined; list: BoundPolicy[] }
    | undefined;
  const selected = (entry: PeriodEntry, kind: string, policy: string | undefined): BoundPolicy[] => {
    // Bulk runs ask for the same selection over and over: skip building the key.
    if (lastSel && lastSel.entry === entry && lastSel.kind === kind && lastSel.policy === policy)
      return lastSel.list;
    const key = policy === undefined ? kind : `${kind}\u0000${policy}`;
    let list = entry.byKind.get(key);
    if (!list) {
      list = set.policies
        .filter(
          (p) =>
            p.subjectKind === kind &&
            p.periodUnit === entry.info.unit &&
            (policy === undefined || p.id === policy),
        )
        .map((p) => bindPolicy(p, entry));
      entry.byKind.set(key, list);
    }
    lastSel = { entry, kind, policy, list };
    return list;
  };

  const begin = (input: EvaluationInput, entry: PeriodEntry): void => {
    fr.gen += 1;
    fr.facts = input.facts;
    fr.year = entry.info.year;
    fr.inherited = yearInherited(fr.year);
    fr.ownSafe = table.ownSafe(input.facts);
    currentSubject = input.subject;
  };

  function evaluateSync(input: EvaluationInput, period: Period, opts?: EvaluateOptions): EvaluationResult[] {
    const entry = periodEntry(period);
    const list = selected(entry, input.kind, opts?.policy);
    begin(input, entry);
    const out: EvaluationResult[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) out[i] = lean(list[i]!, fr);
    return out;
  }

  function evaluateFullSync(input: EvaluationInput, period: Period, opts?: EvaluateOptions): Evaluation[] {
    const entry = periodEntry(period);
    const list = selected(entry, input.kind, opts?.policy);
    begin(input, entry);
    const fc: FullContext = { input, memo: new Map() };
    return list.map((bp) => full(bp, fr, fc));
  }

  return {
    name: 'compiled',
    evaluateSync,
    evaluateFullSync,
    async evaluate(input, period, opts) {
      return evaluateFullSync(input, period, opts);
    },
  };
}

/** Reasons deduplicated in order. */
function dedupe(list: string[]): string[] {
  const out: string[] = [];
  for (const r of list) pushReason(out, r);
  return out;
}
