/**
 * Reads and checks a rules directory: rule files, parameter files and test cases. Every problem is
 * one line `rules/<file>: <json-path>: <message>` so policy staff can fix it without reading code.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import canonicalize from 'canonicalize';
import type { z } from 'zod';
import { checkFactValue, checkFactValues, FACTS, type FactType, factDefinition } from '../facts/catalogue.ts';
import {
  DERIVED_FACTS,
  derivedFact,
  ELIGIBLE_FOR_PREFIX,
  isCalendarDate,
  isRatio,
  parsePeriod,
} from '../facts/derived.ts';
import type { SubjectKind } from '../types.ts';
import {
  type AmountSpec,
  type ConditionNode,
  OPERATORS,
  type Parameter,
  ParamFileSchema,
  type Policy,
  PolicyFileSchema,
  type RuleTestCase,
  TestFileSchema,
} from './model.ts';
import { datedValueProblems, paramNamesIn, valueInForce } from './params.ts';
import { withArticle } from '../words.ts';

/** One problem found in a rules directory. `text` is the rendered line. */
export interface Problem {
  /** File name relative to the rules directory, e.g. `elderly-allowance.json`, `params/elderly.json`. */
  file: string;
  /** JSON path inside the file, e.g. `$.conditions.all[2].operator`. */
  path: string;
  message: string;
  /** `<dir>/<file>: <path>: <message>`, `<dir>` as the directory was given (relative to the working directory). */
  text: string;
}

/** Everything read from a rules directory, with the problems found. */
export interface RulesDirContent {
  problems: Problem[];
  /**
   * Findings that do not make the directory invalid (a policy without test cases beside it): the
   * commands print them on stderr without changing the exit code. Same line format as problems.
   */
  warnings: Problem[];
  policies: Policy[];
  params: Map<string, Parameter>;
  /** Test cases by policy id. */
  tests: Map<string, { file: string; cases: RuleTestCase[] }>;
  /** sha256 (hex) over the canonical JSON of every rule and parameter file. */
  contentHash: string;
}

type Seg = string | number;

/** In `broken`: a params file could not be read at all, so any name may have been defined there. */
const ANY_PARAMETER = '*';

/** Renders a path as JSONPath: `$.a.b[0]["zh-CN"]`. */
export function jsonPath(segs: readonly Seg[]): string {
  return `$${segs
    .map((s) =>
      typeof s === 'number'
        ? `[${s}]`
        : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)
          ? `.${s}`
          : `[${JSON.stringify(s)}]`,
    )
    .join('')}`;
}

/** How the rules directory is named in problem lines: relative to the working directory when inside it. */
export function dirLabel(dir: string): string {
  const rel = relative(process.cwd(), resolve(dir));
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(dir) : rel.split('\\').join('/');
}

/** Dotted property names only: json-rules-engine's default JSONPath resolver had an RCE (CVE-2024-21534). */
export const SAFE_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
/** Path segments that would reach the prototype chain. */
export const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Reason names a condition may not take (the evaluator reserves them). */
const RESERVED_REASON = /^(missing-fact:|missing-parameter:|outside-effective-period$)/;
const REASON_NAME = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Deepest nesting a rule or parameter file may have: deeper trees are refused before checking. */
export const MAX_DEPTH = 64;

/** Nesting depth of a JSON value, measured without recursion. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** One problem is one line: control characters are escaped and overlong text is cut. */
export function oneLine(text: string, max = 300): string {
  let escaped = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    escaped +=
      code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : c;
  }
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** Reads, parses and checks every file of a rules directory. Never throws for bad content. */
export function readRulesDir(dir: string): RulesDirContent {
  const label = dirLabel(dir);
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const finding = (file: string, segs: readonly Seg[] | string, message: string): Problem => {
    const path = oneLine(typeof segs === 'string' ? segs : jsonPath(segs), 200);
    const line = oneLine(message);
    return { file, path, message: line, text: `${label}/${file}: ${path}: ${line}` };
  };
  const report = (file: string, segs: readonly Seg[] | string, message: string): void => {
    problems.push(finding(file, segs, message));
  };
  const out: RulesDirContent = {
    problems,
    warnings,
    policies: [],
    params: new Map(),
    tests: new Map(),
    contentHash: '',
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    report('', '$', `rules directory ${dir} does not exist`);
    return out;
  }

  const hashed: Record<string, unknown> = {};
  const readJson = (file: string): { ok: true; json: unknown } | { ok: false } => {
    try {
      // A UTF-8 byte order mark (Windows editors save one) is not content: removed before parsing.
      const json: unknown = JSON.parse(stripBom(readFileSync(join(dir, file), 'utf8')));
      if (depthOf(json) > MAX_DEPTH) {
        report(file, '$', `nested more than ${MAX_DEPTH} levels deep`);
        return { ok: false };
      }
      return { ok: true, json };
    } catch (e) {
      report(file, '$', `not valid JSON: ${(e as Error).message.split('\n')[0]}`);
      return { ok: false };
    }
  };
  const zodProblems = (file: string, error: z.ZodError, input: unknown): void => {
    for (const issue of error.issues) {
      const segs = issue.path.filter((s): s is Seg => typeof s !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) report(file, [...segs, k], 'unknown key (not part of the file format)');
      } else if (
        absentKey(input, segs) ||
        (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
      ) {
        // A missing key is "is required", whatever the schema says of a present value (a link).
        report(file, segs, 'is required');
      } else {
        report(file, segs, inWords(issue));
      }
    }
  };

  // Parameters first: rule checks refer to them.
  /** Parameter names of params files that failed their schema (their problems are reported). */
  const broken = new Set<string>();
  /** Where each parameter is defined, for a warning about it. */
  const paramAt = new Map<string, { file: string; index: number }>();
  /** Parameters any rule file reads, valid or not; undefined once a rule file is not even JSON. */
  let paramsRead: Set<string> | undefined = new Set<string>();
  const paramsDir = join(dir, 'params');
  const paramFiles = existsSync(paramsDir)
    ? readdirSync(paramsDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => `params/${f}`)
    : [];
  for (const file of paramFiles) {
    const r = readJson(file);
    if (!r.ok) {
      // Which names it defines is unknown: references to any undefined name are not reported.
      broken.add(ANY_PARAMETER);
      continue;
    }
    hashed[file] = r.json;
    const parsed = ParamFileSchema.safeParse(r.json);
    if (!parsed.success) {
      zodProblems(file, parsed.error, r.json);
      // The names it defines are not "unknown" to the rules that use them: one problem, not a cascade.
      const listed = (r.json as { parameters?: unknown } | null)?.parameters;
      if (Array.isArray(listed)) {
        for (const e of listed) if (isObj(e) && typeof e.name === 'string') broken.add(e.name);
      }
      continue;
    }
    parsed.data.parameters.forEach((p, i) => {
      const base: Seg[] = ['parameters', i];
      const prior = out.params.get(p.name);
      if (prior) {
        report(file, [...base, 'name'], `parameter ${p.name} is already defined in ${prior.file}`);
        return;
      }
      let ok = true;
      p.values.forEach((v, j) => {
        if (!isCalendarDate(v.from)) {
          report(file, [...base, 'values', j, 'from'], `'${v.from}' is not a calendar date YYYY-MM-DD`);
          ok = false;
        }
        if (v.to !== undefined && !isCalendarDate(v.to)) {
          report(file, [...base, 'values', j, 'to'], `'${v.to}' is not a calendar date YYYY-MM-DD`);
          ok = false;
        }
      });
      const kinds = new Set(p.values.map((v) => (typeof v.value === 'object' ? 'ratio' : typeof v.value)));
      if (kinds.size > 1) {
        report(
          file,
          [...base, 'values'],
          `values mix types (${[...kinds].join(', ')}): every dated value must have the same type`,
        );
        ok = false;
      }
      if (ok) {
        for (const d of datedValueProblems(p.values)) report(file, [...base, 'values', d.index], d.message);
      }
      out.params.set(p.name, { ...p, file });
      paramAt.set(p.name, { file, index: i });
    });
  }

  /** The effective window in the form of the period unit, from <= to; returns the opening period. */
  const checkWindow = (
    file: string,
    unit: 'year' | 'month',
    effective: { from: string; to?: string | undefined },
  ) => {
    const form = `${unit} period (${unit === 'year' ? 'YYYY' : 'YYYY-MM'})`;
    const fromP = parsePeriod(effective.from);
    if (!fromP || fromP.unit !== unit)
      report(file, ['effective', 'from'], `'${effective.from}' is not a ${form}`);
    if (effective.to !== undefined) {
      const toP = parsePeriod(effective.to);
      if (!toP || toP.unit !== unit) {
        report(file, ['effective', 'to'], `'${effective.to}' is not a ${form}`);
      } else if (fromP && effective.to < effective.from) {
        report(file, ['effective'], `window ends (${effective.to}) before it starts (${effective.from})`);
      }
    }
    return fromP;
  };

  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile())
    .sort();
  const ruleFiles = entries.filter((f) => !f.endsWith('.test.json'));
  const testFiles = entries.filter((f) => f.endsWith('.test.json'));

  const seen = new Map<string, string>();
  // Ids of every rule file present, valid or not, so one broken file gives one problem, not a cascade.
  const present = new Set(ruleFiles.map((f) => f.slice(0, -'.json'.length)));
  const eligibleForRefs: Array<{ file: string; segs: Seg[]; from: string; to: string }> = [];
  for (const file of ruleFiles) {
    const r = readJson(file);
    if (!r.ok) {
      paramsRead = undefined;
      continue;
    }
    if (paramsRead && r.json !== null && typeof r.json === 'object') {
      const raw = r.json as Record<string, unknown>;
      paramNamesIn(raw.conditions, paramsRead);
      paramNamesIn(raw.amount, paramsRead);
    }
    hashed[file] = r.json;
    const parsed = PolicyFileSchema.safeParse(r.json);
    if (!parsed.success) {
      zodProblems(file, parsed.error, r.json);
      // Still check the condition tree and amount, so one run lists every problem of the file.
      const raw = r.json as Record<string, unknown> | null;
      const kind = raw && typeof raw === 'object' ? raw.subjectKind : undefined;
      if (
        (kind === 'person' || kind === 'enterprise') &&
        !parsed.error.issues.some((i) => i.path[0] === 'conditions' || i.path[0] === 'amount')
      ) {
        const unit = raw!.periodUnit;
        const ctx: CheckContext = {
          file,
          kind,
          ...(unit === 'year' || unit === 'month' ? { periodUnit: unit } : {}),
          report,
          params: out.params,
          broken,
          names: new Set(),
          usedParams: new Map(),
          eligibleFor: [],
        };
        checkNode(ctx, raw!.conditions, ['conditions'], true);
        checkAmount(ctx, raw!.amount, ['amount']);
      }
      // And the effective window, when it and the period unit are well formed themselves.
      const unit = raw && typeof raw === 'object' ? raw.periodUnit : undefined;
      const effective = raw && typeof raw === 'object' ? raw.effective : undefined;
      if (
        (unit === 'year' || unit === 'month') &&
        isObj(effective) &&
        typeof effective.from === 'string' &&
        (effective.to === undefined || typeof effective.to === 'string') &&
        !parsed.error.issues.some((i) => i.path[0] === 'effective' || i.path[0] === 'periodUnit')
      ) {
        checkWindow(file, unit, { from: effective.from, to: effective.to });
      }
      continue;
    }
    const p = parsed.data;
    const before = problems.length;
    if (file !== `${p.id}.json`)
      report(
        file,
        ['id'],
        `id ${p.id} does not match the file name: set the id to ${file.slice(0, -'.json'.length)}, or rename the file to ${p.id}.json (and its test cases to ${p.id}.test.json)`,
      );
    const dup = seen.get(p.id);
    if (dup) report(file, ['id'], `policy ${p.id} is already defined in ${dup}`);
    seen.set(p.id, file);

    const fromP = checkWindow(file, p.periodUnit, p.effective);

    const ctx: CheckContext = {
      file,
      kind: p.subjectKind,
      periodUnit: p.periodUnit,
      report,
      params: out.params,
      broken,
      names: new Set(),
      usedParams: new Map(),
      eligibleFor: [],
    };
    checkNode(ctx, p.conditions, ['conditions'], true);
    checkAmount(ctx, p.amount, ['amount']);
    if (p.notification.recipients === 'guardians' && p.subjectKind !== 'person') {
      report(file, ['notification', 'recipients'], 'only persons have guardians');
    }
    // Every parameter used must be in force when the window opens, or the first period cannot be decided.
    if (fromP) {
      for (const [name, segs] of ctx.usedParams) {
        const param = out.params.get(name);
        if (param && !valueInForce(param, fromP.start)) {
          report(
            file,
            segs,
            `parameter ${name} has no value in force on ${fromP.start}, when the effective window opens`,
          );
        }
      }
    }
    for (const ref of ctx.eligibleFor)
      eligibleForRefs.push({ file, segs: ref.segs, from: p.id, to: ref.policy });

    if (problems.length === before) {
      out.policies.push({
        ...(p as Omit<Policy, 'version' | 'file' | 'contentHash' | 'conditions' | 'amount'>),
        version: String(p.version),
        conditions: p.conditions as ConditionNode,
        amount: p.amount as AmountSpec,
        file,
        contentHash: sha256(canonicalize(r.json) ?? ''),
      });
    }
  }

  // eligibleFor:<policy> must name a policy of the same subject kind and period unit, without cycles.
  const byId = new Map(out.policies.map((p) => [p.id, p]));
  const edges = new Map<string, string[]>();
  for (const ref of eligibleForRefs) {
    const from = byId.get(ref.from);
    const to = byId.get(ref.to);
    if (!to) {
      if (!present.has(ref.to))
        report(ref.file, ref.segs, `fact ${ELIGIBLE_FOR_PREFIX}${ref.to} names no policy in this directory`);
      continue;
    }
    if (from && (to.subjectKind !== from.subjectKind || to.periodUnit !== from.periodUnit)) {
      report(
        ref.file,
        ref.segs,
        `policy ${ref.to} decides ${to.subjectKind}s per ${to.periodUnit}; ${ref.from} decides ${from.subjectKind}s per ${from.periodUnit}`,
      );
    }
    edges.set(ref.from, [...(edges.get(ref.from) ?? []), ref.to]);
  }
  const cyclic = (start: string): boolean => {
    const stack = [...(edges.get(start) ?? [])];
    const visited = new Set<string>();
    while (stack.length) {
      const n = stack.pop()!;
      if (n === start) return true;
      if (visited.has(n)) continue;
      visited.add(n);
      stack.push(...(edges.get(n) ?? []));
    }
    return false;
  };
  for (const ref of eligibleForRefs) {
    if (ref.from === ref.to || cyclic(ref.from)) {
      report(
        ref.file,
        ref.segs,
        `policy ${ref.from} depends on itself through ${ELIGIBLE_FOR_PREFIX}${ref.to}`,
      );
    }
  }

  for (const file of testFiles) {
    const r = readJson(file);
    if (!r.ok) continue;
    const id = file.slice(0, -'.test.json'.length);
    const policy = byId.get(id);
    if (!present.has(id)) report(file, '$', `test cases for policy ${id}, but there is no ${id}.json`);
    const parsed = TestFileSchema.safeParse(r.json);
    if (!parsed.success) {
      zodProblems(file, parsed.error, r.json);
      continue;
    }
    parsed.data.forEach((c, i) => {
      const period = parsePeriod(c.period);
      if (!period) report(file, [i, 'period'], `'${c.period}' is not a period YYYY or YYYY-MM`);
      else if (policy && period.unit !== policy.periodUnit) {
        report(
          file,
          [i, 'period'],
          `policy ${id} is decided per ${policy.periodUnit}, not per ${period.unit}`,
        );
      }
      if (policy && c.kind !== policy.subjectKind)
        report(file, [i, 'kind'], `policy ${id} applies to ${policy.subjectKind}s`);
      if (c.expected.outcome === 'eligible' && c.expected.amount === null) {
        report(file, [i, 'expected', 'amount'], 'an eligible case needs an amount');
      }
      if (c.expected.outcome === 'not-eligible' && c.expected.amount !== null) {
        report(file, [i, 'expected', 'amount'], 'a not-eligible case has amount null');
      }
      checkCaseFacts(c, (segs, message) => report(file, [i, 'facts', ...segs], message));
      if (policy) {
        (c.expected.reasons ?? []).forEach((reason, k) => {
          const why = reasonProblem(reason, policy, out.params);
          if (why) report(file, [i, 'expected', 'reasons', k], why);
        });
      }
    });
    out.tests.set(id, { file, cases: parsed.data as RuleTestCase[] });
  }

  // A parameter no rule reads is most often a misspelt name (the rule then names the one it lacks).
  if (paramsRead) {
    for (const [name, at] of paramAt) {
      if (!paramsRead.has(name))
        warnings.push(
          finding(at.file, ['parameters', at.index, 'name'], `parameter ${name} is read by no rule`),
        );
    }
  }
  // Every policy is meant to carry its cases; a draft directory (pb simulate, a copy without tests)
  // still loads, so a missing test file is a warning, not a problem.
  const testIds = new Set(testFiles.map((f) => f.slice(0, -'.test.json'.length)));
  for (const id of present) {
    if (!testIds.has(id))
      warnings.push(finding(`${id}.json`, '$', `no test cases: add ${id}.test.json beside it`));
    else if (out.tests.get(id)?.cases.length === 0)
      warnings.push(finding(`${id}.test.json`, '$', 'no test cases: the list is empty'));
  }

  out.policies.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  out.contentHash = sha256(canonicalize(hashed) ?? '');
  return out;
}

/** Names given in a condition tree (every condition and named group): the reasons it can report. */
function conditionNames(node: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const n of node) conditionNames(n, out);
  else if (isObj(node)) {
    if (typeof node.name === 'string') out.add(node.name);
    for (const k of ['all', 'any', 'not']) if (k in node) conditionNames(node[k], out);
  }
  return out;
}

/** Why a test case's expected reason is one the policy can never give, or undefined. */
function reasonProblem(
  reason: string,
  policy: Policy,
  params: ReadonlyMap<string, unknown>,
): string | undefined {
  if (reason === 'outside-effective-period' || reason === 'no-amount-tier') return undefined;
  if (reason.startsWith('missing-fact:')) {
    const fact = reason.slice('missing-fact:'.length);
    const known = factDefinition(fact)?.subjectKind === policy.subjectKind || derivedFact(fact) !== undefined;
    return known ? undefined : `'${reason}': ${fact} is no fact of a ${policy.subjectKind}`;
  }
  if (reason.startsWith('missing-parameter:')) {
    const name = reason.slice('missing-parameter:'.length);
    return params.has(name)
      ? undefined
      : `'${reason}': no parameter ${name} is defined${didYouMean(name, params.keys())}`;
  }
  const names = conditionNames(policy.conditions);
  if (names.has(reason)) return undefined;
  return `'${reason}' is no reason ${policy.id} can give: not the name of one of its conditions${didYouMean(reason, names)}`;
}

/** Checks a rules directory; an empty list means every file is valid. */
export function validateRulesDir(dir: string): Problem[] {
  return readRulesDir(dir).problems;
}

/** A UTF-8 byte order mark at the start of a text, removed. */
const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** True when the last key of `segs` is absent from an object found at the path before it. */
function absentKey(input: unknown, segs: readonly Seg[]): boolean {
  if (segs.length === 0) return false;
  let cur: unknown = input;
  for (const s of segs.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return false;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  const last = segs.at(-1)!;
  return cur !== null && typeof cur === 'object' && !Array.isArray(cur) && !Object.hasOwn(cur, last);
}

/**
 * Checks the `facts` of a test case as `pb evaluate` checks an input line (the same checker, so the
 * same messages), one problem per fact: names outside the catalogue or of the other subject kind,
 * and values not of the fact's type. A malformed value is accepted only where the case expects it
 * to be treated as unknown: its expected reasons list `missing-fact:<that fact>`.
 */
export function checkCaseFacts(
  c: Pick<RuleTestCase, 'kind' | 'facts' | 'expected'>,
  report: (segs: Seg[], message: string) => void,
): void {
  const expectedMissing = new Set(
    (c.expected.reasons ?? [])
      .filter((r) => r.startsWith('missing-fact:'))
      .map((r) => r.slice('missing-fact:'.length)),
  );
  for (const [name, value] of Object.entries(c.facts)) {
    const d = factDefinition(name);
    if (!d) {
      report(
        [name],
        `unknown fact '${name}' (not in the fact catalogue of benefits.md; pb evaluate ignores it)${didYouMean(
          name,
          FACTS.filter((f) => f.subjectKind === c.kind).map((f) => f.name),
        )}`,
      );
      continue;
    }
    if (d.subjectKind !== c.kind) {
      report([name], `fact ${name} describes ${d.subjectKind}s; this case is about ${withArticle(c.kind)}`);
      continue;
    }
    if (expectedMissing.has(name)) continue;
    for (const message of checkFactValues(c.kind, { [name]: value })) report([name], message);
  }
}

// ---------------------------------------------------------------------------------------------

interface CheckContext {
  file: string;
  kind: SubjectKind;
  /** The policy's period unit, when the file gives a valid one. */
  periodUnit?: 'year' | 'month';
  report: (file: string, segs: readonly Seg[], message: string) => void;
  params: ReadonlyMap<string, Parameter>;
  /** Parameter names defined in params files that failed their schema: not reported again here. */
  broken: ReadonlySet<string>;
  names: Set<string>;
  usedParams: Map<string, Seg[]>;
  eligibleFor: Array<{ policy: string; segs: Seg[] }>;
}

/** Edits (insert, delete, replace, swap of neighbours) between two names, case aside. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) => [i, ...Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[x.length]![y.length]!;
}

/** `: did you mean 'x'?` for the one closest known name within a few edits (or a prefix of it), else ''. */
function didYouMean(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const dist =
      k.toLowerCase().startsWith(name.toLowerCase()) && name.length >= 4 ? 1 : editDistance(name, k);
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.min(3, Math.floor(name.length / 3)))
    ? `; did you mean '${best}'?`
    : '';
}

/** A schema issue in the words of the other messages (zod's defaults name its own terms). */
function inWords(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = Number(big ? issue.maximum : issue.minimum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return big
          ? `must be ${inclusive ? 'at most' : 'less than'} ${bound}`
          : `must be ${inclusive ? 'at least' : 'greater than'} ${bound}`;
      }
      if (issue.origin === 'array') {
        return `must have ${big ? 'at most' : 'at least'} ${bound} element${bound === 1 ? '' : 's'}`;
      }
      return issue.message;
    }
    case 'invalid_type': {
      const expected = String(issue.expected);
      const words: Record<string, string> = {
        string: 'a text (in quotes)',
        number: 'a number',
        int: 'a whole number',
        boolean: 'true or false',
        object: 'an object',
        array: 'a list',
      };
      return words[expected] ? `must be ${words[expected]}` : issue.message;
    }
    default:
      return issue.message;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isParamRef = (v: unknown): v is { param: string } =>
  isObj(v) && Object.keys(v).length === 1 && typeof v.param === 'string';

function unknownKeys(
  ctx: CheckContext,
  node: Record<string, unknown>,
  segs: Seg[],
  allowed: readonly string[],
): void {
  for (const k of Object.keys(node)) {
    if (!allowed.includes(k)) ctx.report(ctx.file, [...segs, k], 'unknown key (not part of the rule format)');
  }
}

type ParamType = 'integer' | 'string' | 'ratio';

/**
 * Checks a parameter reference exists and holds values of the wanted type. Returns the parameter
 * when it does (so its values can be checked further), undefined otherwise.
 */
function checkParamRef(
  ctx: CheckContext,
  ref: { param: string },
  segs: Seg[],
  want: ParamType,
): Parameter | undefined {
  const p = ctx.params.get(ref.param);
  if (!p) {
    if (ctx.broken.has(ref.param) || ctx.broken.has(ANY_PARAMETER)) return undefined;
    ctx.report(
      ctx.file,
      [...segs, 'param'],
      `unknown parameter '${ref.param}' (not defined in params/*.json)${didYouMean(ref.param, ctx.params.keys())}`,
    );
    return undefined;
  }
  if (!ctx.usedParams.has(ref.param)) ctx.usedParams.set(ref.param, [...segs, 'param']);
  const fits = p.values.every((v) =>
    want === 'ratio'
      ? isRatio(v.value)
      : want === 'integer'
        ? Number.isSafeInteger(v.value)
        : typeof v.value === 'string',
  );
  if (!fits) {
    ctx.report(
      ctx.file,
      [...segs, 'param'],
      `parameter ${ref.param} must hold ${want === 'integer' ? 'whole numbers' : `${want} values`}`,
    );
    return undefined;
  }
  return p;
}

function checkNumberOrParam(
  ctx: CheckContext,
  v: unknown,
  segs: Seg[],
  want: 'integer' | 'ratio' = 'integer',
): Parameter | undefined {
  if (isParamRef(v)) return checkParamRef(ctx, v, segs, want);
  if (want === 'integer' && !Number.isSafeInteger(v))
    ctx.report(ctx.file, segs, 'must be a whole number or {"param": "<name>"}');
  else if (want === 'ratio' && !isRatio(v))
    ctx.report(ctx.file, segs, 'must be {"numerator": n, "denominator": d} or {"param": "<name>"}');
  return undefined;
}

/**
 * Checks a whole number (literal or parameter) that must not be negative (an amount) or must be
 * positive (a denominator): a literal where it is written, every dated value of a parameter.
 */
function checkSign(ctx: CheckContext, v: unknown, segs: Seg[], sign: 'non-negative' | 'positive'): void {
  const bad = (n: number): boolean => (sign === 'positive' ? n <= 0 : n < 0);
  const why =
    sign === 'positive'
      ? 'must be positive'
      : 'must not be negative: an amount is paid to the subject, never taken (fen >= 0)';
  const p = checkNumberOrParam(ctx, v, segs);
  if (typeof v === 'number' && Number.isSafeInteger(v) && bad(v)) ctx.report(ctx.file, segs, why);
  for (const d of p?.values ?? []) {
    if (typeof d.value === 'number' && bad(d.value)) {
      ctx.report(
        ctx.file,
        [...segs, 'param'],
        `parameter ${p!.name} holds ${d.value} from ${d.from}: ${why}`,
      );
      return;
    }
  }
}

/** What a fact name refers to, for a subject kind; a message when it refers to nothing usable. */
function resolveFact(
  ctx: CheckContext,
  name: unknown,
  segs: Seg[],
): { kind: 'base' | 'derived' | 'eligibleFor'; name: string } | undefined {
  if (typeof name !== 'string' || name === '') {
    ctx.report(ctx.file, segs, 'must name a fact');
    return undefined;
  }
  if (name.startsWith(ELIGIBLE_FOR_PREFIX)) {
    const policy = name.slice(ELIGIBLE_FOR_PREFIX.length);
    ctx.eligibleFor.push({ policy, segs });
    return { kind: 'eligibleFor', name };
  }
  const base = factDefinition(name);
  const derived = derivedFact(name);
  const k = base?.subjectKind ?? derived?.subjectKind;
  if (!k) {
    ctx.report(
      ctx.file,
      segs,
      `unknown fact '${name}' (not in the fact catalogue of benefits.md nor a derived fact)${didYouMean(
        name,
        [...FACTS, ...DERIVED_FACTS].filter((f) => f.subjectKind === ctx.kind).map((f) => f.name),
      )}`,
    );
    return undefined;
  }
  if (k !== ctx.kind) {
    ctx.report(ctx.file, segs, `fact ${name} describes ${k}s; this policy decides for ${ctx.kind}s`);
    return undefined;
  }
  return { kind: base ? 'base' : 'derived', name };
}

// ---------------------------------------------------------------------------------------------
// Fact types: what a comparison or a tier may compare a fact with

/**
 * Value types of the derived facts (derived.ts computes them, the catalogue types only base facts).
 * A unit test checks every derived fact has one.
 */
export const DERIVED_FACT_TYPES: Readonly<Record<string, FactType>> = {
  ageOnPeriodStart: { kind: 'integer' },
  aliveOnPeriodStart: { kind: 'boolean' },
  countedMonths: { kind: 'integer', min: 0, max: 12 },
  certValidOnPeriodStart: { kind: 'boolean' },
  layoffRateWithinLimit: { kind: 'boolean' },
};

/** The value type of any fact a rule may name (`eligibleFor:<policy>` is true or false). */
export function factTypeOf(name: string): FactType | undefined {
  if (name.startsWith(ELIGIBLE_FOR_PREFIX)) return { kind: 'boolean' };
  return (
    factDefinition(name)?.type ??
    (Object.hasOwn(DERIVED_FACT_TYPES, name) ? DERIVED_FACT_TYPES[name] : undefined)
  );
}

type JsonKind = 'text' | 'number' | 'boolean' | 'list';

function jsonKindOf(t: FactType): JsonKind {
  switch (t.kind) {
    case 'date':
    case 'region':
    case 'enum':
      return 'text';
    case 'integer':
    case 'fen':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'person-ids':
      return 'list';
  }
}

/** How a fact type reads in messages: `ageOnPeriodStart is a whole number`. */
function describeType(t: FactType): string {
  switch (t.kind) {
    case 'date':
      return 'a date YYYY-MM-DD';
    case 'region':
      return 'a 6-digit region code';
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'integer':
      return 'a whole number';
    case 'fen':
      return 'a whole number of fen';
    case 'boolean':
      return 'true or false';
    case 'person-ids':
      return 'a list of person ids';
  }
}

/** True when some value of the type can start with `prefix` (startsWith can ever be true). */
function canStartWith(t: FactType, prefix: string): boolean {
  switch (t.kind) {
    case 'region':
      return /^\d{0,6}$/.test(prefix);
    case 'enum':
      return t.values.some((v) => v.startsWith(prefix));
    case 'date': {
      const shape = 'dddd-dd-dd';
      return (
        prefix.length <= shape.length &&
        [...prefix].every((c, i) => (shape[i] === '-' ? c === '-' : c >= '0' && c <= '9'))
      );
    }
    default:
      return false;
  }
}

const show = (v: unknown): string =>
  typeof v === 'object' && v !== null && isRatio(v) ? `${v.numerator}/${v.denominator}` : JSON.stringify(v);

/**
 * Why a comparison value can never be the fact's value (or a prefix of it, for startsWith), or
 * undefined when it can. `null` with equal/notEqual asks "known or not" and is always allowed.
 */
function valueMismatch(t: FactType, op: string, v: unknown): string | undefined {
  if (op === 'startsWith') {
    if (typeof v !== 'string' || jsonKindOf(t) !== 'text') return undefined;
    return canStartWith(t, v) ? undefined : `it is ${describeType(t)}`;
  }
  if (op === 'contains' || op === 'doesNotContain') {
    if (t.kind !== 'person-ids') return undefined;
    return typeof v === 'string' && v !== '' ? undefined : 'its elements are person ids, non-empty texts';
  }
  if (['equal', 'notEqual', 'in', 'notIn'].includes(op)) {
    if (v === null && (op === 'equal' || op === 'notEqual')) return undefined;
    return checkFactValue(t, v);
  }
  return undefined;
}

/** Why an operator can never hold for a fact of this type, or undefined when it can. */
function operatorMismatch(t: FactType, op: string, fact: string): string | undefined {
  const k = jsonKindOf(t);
  if (op === 'startsWith' && k !== 'text')
    return `operator startsWith compares texts: ${fact} is ${describeType(t)}`;
  if ((op === 'contains' || op === 'doesNotContain') && k !== 'list')
    return `operator ${op} looks for an element of a list: ${fact} is ${describeType(t)}`;
  if (COMPARE.has(op) && (k === 'boolean' || t.kind === 'enum' || k === 'list'))
    return `operator ${op} compares numbers: ${fact} is ${describeType(t)}`;
  if (['equal', 'notEqual', 'in', 'notIn'].includes(op) && k === 'list')
    return `${fact} is ${describeType(t)}: compare its elements with contains or doesNotContain`;
  return undefined;
}

const BOOLEAN_KEYS = ['all', 'any', 'not'] as const;
const COMPARE = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);

function checkNode(ctx: CheckContext, node: unknown, segs: Seg[], root = false): void {
  if (!isObj(node)) {
    ctx.report(
      ctx.file,
      segs,
      root
        ? 'is required: an {"all": [...]}, {"any": [...]} or {"not": …} condition tree'
        : 'must be a condition object',
    );
    return;
  }
  const bool = BOOLEAN_KEYS.filter((k) => Object.hasOwn(node, k));
  if (bool.length > 1) {
    ctx.report(ctx.file, segs, `has both ${bool.join(' and ')}: one boolean operator per node`);
    return;
  }
  if (root && bool.length === 0) {
    ctx.report(ctx.file, segs, 'must be an {"all": [...]}, {"any": [...]} or {"not": …} condition tree');
    return;
  }
  if (node.name !== undefined) checkReasonName(ctx, node.name, [...segs, 'name']);
  const b = bool[0];
  if (b) {
    unknownKeys(ctx, node, segs, [b, 'name', 'description']);
    if (b === 'not') {
      if (node.name === undefined)
        ctx.report(
          ctx.file,
          [...segs, 'name'],
          'is required: the reason reported when the not-condition fails',
        );
      checkNode(ctx, node.not, [...segs, 'not']);
      return;
    }
    const kids = node[b];
    if (!Array.isArray(kids) || kids.length === 0) {
      ctx.report(ctx.file, [...segs, b], 'must be a non-empty array of conditions');
      return;
    }
    kids.forEach((k, i) => {
      checkNode(ctx, k, [...segs, b, i]);
    });
    return;
  }
  if (Object.hasOwn(node, 'condition')) {
    ctx.report(
      ctx.file,
      [...segs, 'condition'],
      'shared condition references are not supported: write the condition out',
    );
    return;
  }
  unknownKeys(ctx, node, segs, ['name', 'fact', 'operator', 'value', 'path', 'params', 'description']);
  if (node.name === undefined)
    ctx.report(ctx.file, [...segs, 'name'], 'is required: the reason reported when the condition fails');
  const fact = resolveFact(ctx, node.fact, [...segs, 'fact']);
  const op = node.operator;
  const knownOp = typeof op === 'string' && (OPERATORS as readonly string[]).includes(op);
  if (!knownOp) {
    ctx.report(
      ctx.file,
      [...segs, 'operator'],
      `unknown operator '${String(op)}'${typeof op === 'string' ? didYouMean(op, OPERATORS) : ''} (allowed: ${OPERATORS.join(', ')})`,
    );
  }
  // A `path` compares a part of the fact, whose type the catalogue does not give.
  const type = fact && knownOp && node.path === undefined ? factTypeOf(fact.name) : undefined;
  const opProblem = type ? operatorMismatch(type, op as string, fact!.name) : undefined;
  if (opProblem) ctx.report(ctx.file, [...segs, 'operator'], opProblem);
  if (!Object.hasOwn(node, 'value')) ctx.report(ctx.file, [...segs, 'value'], 'is required');
  else
    checkValue(
      ctx,
      node.value,
      [...segs, 'value'],
      typeof op === 'string' ? op : '',
      fact?.kind === 'base' ? fact.name : undefined,
      opProblem ? undefined : type && { fact: fact!.name, type },
    );
  if (node.path !== undefined) {
    const p = node.path;
    if (typeof p !== 'string' || !SAFE_PATH.test(p)) {
      ctx.report(
        ctx.file,
        [...segs, 'path'],
        `'${String(p)}' is not a dotted property path (a.b.c); JSONPath expressions are not allowed`,
      );
    } else if (p.split('.').some((s) => FORBIDDEN_SEGMENTS.has(s))) {
      ctx.report(
        ctx.file,
        [...segs, 'path'],
        `'${p}' reaches the prototype chain (__proto__, constructor, prototype)`,
      );
    } else if (fact) {
      // The only facts with parts are lists (guardians), whose parts are their positions: no fact
      // of the catalogue, and no derived fact, is an object with named parts.
      const def = fact.kind === 'base' ? factDefinition(fact.name) : undefined;
      if (def?.type.kind === 'person-ids') {
        if (!/^\d+$/.test(p)) {
          ctx.report(
            ctx.file,
            [...segs, 'path'],
            `'${p}' is not a position in the list ${fact.name}: a path into a list is an index (0, 1, …)`,
          );
        }
      } else {
        ctx.report(
          ctx.file,
          [...segs, 'path'],
          `fact ${fact.name} has no parts for a path to read (${def?.perYear ? "a per-year fact is read for the period's own year" : 'it is a single value'}): remove the path`,
        );
      }
    }
  }
  if (node.params !== undefined) {
    const def = fact?.kind === 'derived' ? derivedFact(fact.name) : undefined;
    if (!isObj(node.params) || !def?.params) {
      ctx.report(
        ctx.file,
        [...segs, 'params'],
        fact ? `fact ${fact.name} takes no params` : 'must be an object',
      );
    } else {
      for (const [k, v] of Object.entries(node.params)) {
        const t = def.params[k];
        if (!t)
          ctx.report(
            ctx.file,
            [...segs, 'params', k],
            `fact ${def.name} takes no param '${k}' (takes ${Object.keys(def.params).join(', ')})`,
          );
        else checkNumberOrParam(ctx, v, [...segs, 'params', k], t);
      }
    }
  }
}

function checkReasonName(ctx: CheckContext, name: unknown, segs: Seg[]): void {
  if (typeof name !== 'string' || !REASON_NAME.test(name)) {
    ctx.report(ctx.file, segs, 'must be a reason name: letters, digits, "-", "." or ":" (e.g. age-below-80)');
  } else if (RESERVED_REASON.test(name)) {
    ctx.report(ctx.file, segs, `'${name}' is a reason the evaluator reserves`);
  } else if (ctx.names.has(name)) {
    ctx.report(
      ctx.file,
      segs,
      `reason name '${name}' is used twice in this policy: each names one condition`,
    );
  } else {
    ctx.names.add(name);
  }
}

/**
 * Checks a comparison value against its operator and, when `typed` is given, against the fact's
 * type: a literal (each element of an in/notIn list) or every dated value of a parameter.
 */
function checkValue(
  ctx: CheckContext,
  v: unknown,
  segs: Seg[],
  op: string,
  baseFact: string | undefined,
  typed: { fact: string; type: FactType } | undefined,
): void {
  const def = baseFact ? factDefinition(baseFact) : undefined;
  if (isObj(v)) {
    // Parameters hold single values: `in` against a string parameter would match substrings.
    if ((op === 'in' || op === 'notIn') && isParamRef(v)) {
      ctx.report(ctx.file, segs, `operator ${op} needs an array of literals, not a parameter`);
      return;
    }
    if (!isParamRef(v)) {
      ctx.report(
        ctx.file,
        segs,
        'an object value must be {"param": "<name>"} (fact references and other objects are not allowed)',
      );
      return;
    }
    const p = checkParamRef(
      ctx,
      v,
      segs,
      op === 'startsWith' || def?.type.kind === 'region'
        ? 'string'
        : COMPARE.has(op)
          ? 'integer'
          : (paramTypeOf(ctx, v.param) ?? 'integer'),
    );
    if (p && typed) {
      for (const d of p.values) {
        const why = valueMismatch(typed.type, op, d.value);
        if (why) {
          ctx.report(
            ctx.file,
            [...segs, 'param'],
            `parameter ${p.name} holds ${show(d.value)} from ${d.from}, which ${typed.fact} can never ${op === 'startsWith' ? 'start with' : 'be'} (${why})`,
          );
          break;
        }
      }
    }
    return;
  }
  const literals: unknown[] = Array.isArray(v) ? v : [v];
  if (literals.some((x) => x !== null && typeof x === 'object')) {
    ctx.report(ctx.file, segs, 'array elements must be strings, numbers or booleans');
    return;
  }
  if ((op === 'in' || op === 'notIn') && !Array.isArray(v)) {
    ctx.report(ctx.file, segs, `operator ${op} needs an array value`);
    return;
  }
  if (COMPARE.has(op) && !Number.isSafeInteger(v)) {
    ctx.report(
      ctx.file,
      segs,
      `operator ${op} compares whole numbers: give a whole number or {"param": "<name>"}`,
    );
    return;
  }
  if (op === 'startsWith' && typeof v !== 'string') {
    ctx.report(ctx.file, segs, 'operator startsWith needs a string value');
    return;
  }
  if (!typed) return;
  const list = op === 'in' || op === 'notIn';
  literals.forEach((x, i) => {
    const why = valueMismatch(typed.type, op, x);
    if (why)
      ctx.report(
        ctx.file,
        list ? [...segs, i] : segs,
        op === 'startsWith'
          ? `${typed.fact} never starts with ${show(x)} (${why})`
          : `${show(x)} is not a possible value of ${typed.fact} (${why})`,
      );
  });
}

function paramTypeOf(ctx: CheckContext, name: string): ParamType | undefined {
  const first = ctx.params.get(name)?.values[0]?.value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? 'string' : typeof first === 'number' ? 'integer' : 'ratio';
}

const AMOUNT_KEYS: Record<string, readonly string[]> = {
  fixed: ['kind', 'value'],
  tiered: ['kind', 'fact', 'tiers'],
  percentOf: ['kind', 'fact', 'numerator', 'denominator'],
  perCountedMonth: ['kind', 'perMonth'],
};

function checkAmount(ctx: CheckContext, a: unknown, segs: Seg[]): void {
  if (!isObj(a)) {
    ctx.report(
      ctx.file,
      segs,
      'is required: an amount {"kind": "fixed"|"tiered"|"percentOf"|"perCountedMonth", …}',
    );
    return;
  }
  const kind = a.kind;
  const keys = typeof kind === 'string' && Object.hasOwn(AMOUNT_KEYS, kind) ? AMOUNT_KEYS[kind] : undefined;
  if (!keys) {
    ctx.report(
      ctx.file,
      [...segs, 'kind'],
      `unknown amount kind '${String(kind)}' (allowed: ${Object.keys(AMOUNT_KEYS).join(', ')})`,
    );
    return;
  }
  unknownKeys(ctx, a, segs, keys);
  switch (kind) {
    case 'fixed':
      checkSign(ctx, a.value, [...segs, 'value'], 'non-negative');
      break;
    case 'perCountedMonth':
      if (ctx.kind !== 'person')
        ctx.report(ctx.file, [...segs, 'kind'], 'perCountedMonth applies to persons');
      else if (ctx.periodUnit === 'month')
        // benefits.md counts months inside a year period (countedMonths(Y)); a month is 0 or 1 of
        // them, so an eligible month could be granted 0 fen.
        ctx.report(
          ctx.file,
          [...segs, 'kind'],
          'perCountedMonth pays for the counted months of a year; this policy is decided per month: use fixed (and a countedMonths condition)',
        );
      checkSign(ctx, a.perMonth, [...segs, 'perMonth'], 'non-negative');
      break;
    case 'percentOf': {
      const f = resolveFact(ctx, a.fact, [...segs, 'fact']);
      if (f?.kind === 'base' && factDefinition(f.name)?.type.kind !== 'fen') {
        ctx.report(ctx.file, [...segs, 'fact'], `fact ${f.name} is not an amount in fen`);
      } else if (f && f.kind !== 'base')
        ctx.report(ctx.file, [...segs, 'fact'], 'percentOf takes a base fact in fen');
      checkSign(ctx, a.numerator, [...segs, 'numerator'], 'non-negative');
      checkSign(ctx, a.denominator, [...segs, 'denominator'], 'positive');
      break;
    }
    case 'tiered': {
      const f = resolveFact(ctx, a.fact, [...segs, 'fact']);
      if (f?.kind === 'eligibleFor')
        ctx.report(ctx.file, [...segs, 'fact'], 'a tier cannot be chosen by eligibility for another policy');
      const type = f && f.kind !== 'eligibleFor' ? factTypeOf(f.name) : undefined;
      if (!Array.isArray(a.tiers) || a.tiers.length === 0) {
        ctx.report(ctx.file, [...segs, 'tiers'], 'must be a non-empty array of tiers');
        break;
      }
      let wellFormed = true;
      a.tiers.forEach((t, i) => {
        const ts: Seg[] = [...segs, 'tiers', i];
        if (!isObj(t)) {
          ctx.report(ctx.file, ts, 'must be a tier {min?, max?, in?, amount}');
          wellFormed = false;
          return;
        }
        unknownKeys(ctx, t, ts, ['min', 'max', 'in', 'amount']);
        if (t.min === undefined && t.max === undefined && t.in === undefined) {
          ctx.report(ctx.file, ts, 'needs min, max or in');
          wellFormed = false;
        }
        for (const bound of ['min', 'max'] as const) {
          if (t[bound] === undefined) continue;
          const p = checkNumberOrParam(ctx, t[bound], [...ts, bound]);
          if (!(Number.isSafeInteger(t[bound]) || p)) wellFormed = false;
        }
        if (
          t.in !== undefined &&
          (!Array.isArray(t.in) || t.in.some((x) => typeof x !== 'string' && typeof x !== 'number'))
        ) {
          ctx.report(ctx.file, [...ts, 'in'], 'must be an array of strings or numbers');
          wellFormed = false;
        } else if (Array.isArray(t.in) && type) {
          t.in.forEach((x, k) => {
            const why = checkFactValue(type, x);
            if (why)
              ctx.report(
                ctx.file,
                [...ts, 'in', k],
                `${show(x)} is not a possible value of ${f!.name} (${why})`,
              );
          });
        }
        checkAmount(ctx, t.amount, [...ts, 'amount']);
      });
      if (wellFormed) checkTierOrder(ctx, a.tiers as Tier[], [...segs, 'tiers'], type);
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tiers: first match wins (evaluation.ts computeAmount), bounds inclusive

type Bound = number | { param: string };
interface Tier {
  min?: Bound;
  max?: Bound;
  in?: Array<string | number>;
}
/** A tier with its bounds resolved for one date. */
interface ResolvedTier {
  min?: number;
  max?: number;
  in?: Array<string | number>;
}

const matchesTier = (t: ResolvedTier, x: string | number): boolean =>
  (t.min === undefined || (typeof x === 'number' && x >= t.min)) &&
  (t.max === undefined || (typeof x === 'number' && x <= t.max)) &&
  (t.in === undefined || t.in.includes(x));

/** True when every whole number of [lo, hi] lies in the union of the (whole-number) intervals. */
function intervalCovered(lo: number, hi: number, intervals: Array<[number, number]>): boolean {
  let cur = lo;
  // (Compared, not subtracted: two open lower ends, -Infinity - -Infinity, would be NaN.)
  for (const [a, b] of [...intervals].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
    if (a > cur) break;
    // An interval open upwards covers everything from here on (Infinity + 1 is no step past it).
    if (b === Infinity) return true;
    cur = Math.max(cur, b + 1);
    if (cur > hi) return true;
  }
  return cur > hi;
}

/** True when no value can reach tier `t` past the earlier tiers (first match wins). */
function shadowed(t: ResolvedTier, earlier: ResolvedTier[], numeric: boolean): boolean {
  if (t.in !== undefined) {
    const reach = t.in.filter((x) => matchesTier(t, x));
    return reach.length > 0 && reach.every((x) => earlier.some((e) => matchesTier(e, x)));
  }
  if (!numeric) return false;
  const intervals: Array<[number, number]> = [];
  for (const e of earlier) {
    if (e.in === undefined) intervals.push([e.min ?? -Infinity, e.max ?? Infinity]);
    else
      for (const x of e.in)
        if (typeof x === 'number' && Number.isSafeInteger(x) && matchesTier(e, x)) intervals.push([x, x]);
  }
  return intervalCovered(t.min ?? -Infinity, t.max ?? Infinity, intervals);
}

/**
 * Tiers whose min is above their max (they match nothing), and tiers no value can reach because
 * earlier tiers match everything they match. Parameter bounds are checked with the values in force
 * from each date one of them changes; a tier whose parameter has no value then is left out.
 */
function checkTierOrder(ctx: CheckContext, tiers: Tier[], segs: Seg[], type: FactType | undefined): void {
  const paramNames = new Set<string>();
  for (const t of tiers)
    for (const b of [t.min, t.max]) if (b !== undefined && typeof b === 'object') paramNames.add(b.param);
  const dates = [
    ...new Set([...paramNames].flatMap((n) => (ctx.params.get(n)?.values ?? []).map((v) => v.from))),
  ].sort();
  const resolveAt = (b: Bound | undefined, date: string | undefined): number | undefined | null => {
    if (b === undefined) return undefined;
    if (typeof b === 'number') return b;
    const p = ctx.params.get(b.param);
    const v = p && date !== undefined ? valueInForce(p, date)?.value : undefined;
    return typeof v === 'number' ? v : null;
  };
  const numeric = type !== undefined && jsonKindOf(type) === 'number';
  const empty = new Set<number>();
  const unreachable = new Set<number>();
  for (const date of dates.length ? dates : [undefined]) {
    const resolved = tiers.map((t): ResolvedTier | undefined => {
      const min = resolveAt(t.min, date);
      const max = resolveAt(t.max, date);
      if (min === null || max === null) return undefined;
      return {
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(t.in !== undefined ? { in: t.in } : {}),
      };
    });
    const usesParam = (from: number, to: number): boolean =>
      tiers.slice(from, to + 1).some((t) => typeof t.min === 'object' || typeof t.max === 'object');
    const when = (from: number, to: number): string =>
      date !== undefined && usesParam(from, to) ? ` (parameter values in force on ${date})` : '';
    resolved.forEach((t, i) => {
      if (!t || empty.has(i)) return;
      if (t.min !== undefined && t.max !== undefined && t.min > t.max) {
        empty.add(i);
        ctx.report(
          ctx.file,
          [...segs, i],
          `min ${t.min} is greater than max ${t.max}: the tier matches nothing${when(i, i)}`,
        );
      }
    });
    resolved.forEach((t, i) => {
      if (!t || i === 0 || empty.has(i) || unreachable.has(i)) return;
      const earlier = resolved.slice(0, i).filter((e, k): e is ResolvedTier => !!e && !empty.has(k));
      if (shadowed(t, earlier, numeric)) {
        unreachable.add(i);
        ctx.report(
          ctx.file,
          [...segs, i],
          `can never be chosen: tiers are first-match and earlier tiers already match every value it matches${when(0, i)}`,
        );
      }
    });
  }
}
